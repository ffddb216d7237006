import { CANVAS_ID_PATTERN, MAX_CANVAS_SIDE, MAX_COLOR } from "../shared/config.js";

/** The colour of a never-painted pixel unless a canvas is created with another (DEFAULT_BACKGROUND). */
export { DEFAULT_BACKGROUND as WHITE } from "./tile-codec.js";

/** What a canvas is created with: its name, size and the colour of pixels never painted. */
export interface CanvasSpec {
  name: string;
  width: number;
  height: number;
  /** 0xRRGGBB. */
  background: number;
}

/** A registered canvas. */
export interface CanvasInfo extends CanvasSpec {
  /** When it was registered, in Unix ms. */
  createdUnixMs: number;
}

/**
 * Why a spec cannot be a canvas (a name outside CANVAS_ID_PATTERN, a side outside
 * 1..MAX_CANVAS_SIDE, a colour above 0xFFFFFF), or undefined when it can.
 */
export function invalidCanvasSpec(spec: CanvasSpec): string | undefined {
  if (!CANVAS_ID_PATTERN.test(spec.name)) return `name "${spec.name.slice(0, 40)}" must match ${CANVAS_ID_PATTERN}`;
  for (const [side, value] of [["width", spec.width], ["height", spec.height]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > MAX_CANVAS_SIDE) return `${side} ${value} must be from 1 to ${MAX_CANVAS_SIDE}`;
  }
  if (!Number.isInteger(spec.background) || spec.background < 0 || spec.background > MAX_COLOR) return `background colour ${spec.background} must be at most 0xFFFFFF`;
  return undefined;
}

/** True when two specs describe the same canvas, so creating one where the other exists changes nothing. */
export function sameSpec(a: CanvasSpec, b: CanvasSpec): boolean {
  return a.name === b.name && a.width === b.width && a.height === b.height && a.background === b.background;
}

/** The outcome of a create: the canvas as registered, and whether this call registered it. */
export interface CreatedCanvas {
  info: CanvasInfo;
  created: boolean;
}

/**
 * The registry of canvases: a canvas exists exactly when it is registered here, and its entry
 * never changes once written (there is no delete yet), so a process may cache what it has read.
 * Creating is atomic: of two concurrent creates of one name, exactly one registers it.
 */
export interface CanvasRegistry {
  /**
   * Registers a valid spec (see invalidCanvasSpec; the caller validates). Resolves created: false
   * when the same spec is already registered; throws CanvasExistsError when another one is.
   */
  create(spec: CanvasSpec): Promise<CreatedCanvas>;
  /** The registered canvas of this name, or undefined. */
  get(name: string): Promise<CanvasInfo | undefined>;
  /** Every registered canvas, ordered by name. */
  list(): Promise<CanvasInfo[]>;
  /** A canvas this process has already read or registered, without a round trip; undefined otherwise. */
  known(name: string): CanvasInfo | undefined;
  /** True while calls can succeed. */
  isReady(): boolean;
  /** Releases connections; later calls fail with StoreUnavailableError. */
  close(): Promise<void>;
}

/** The AlreadyExists message for a create that differs from the registered canvas. */
export function describeConflict(existing: CanvasInfo): string {
  const background = existing.background.toString(16).padStart(6, "0");
  return `canvas "${existing.name}" already exists as ${existing.width}x${existing.height} with background #${background}`;
}

/** A canvas of that name exists with another size or background. Maps to AlreadyExists. */
export class CanvasExistsError extends Error {
  override readonly name = "CanvasExistsError";
}

/** Parses a stored registry entry (JSON of CanvasInfo), throwing on a corrupt one: a storage fault. */
export function parseCanvasInfo(name: string, json: string): CanvasInfo {
  const value = JSON.parse(json) as Partial<CanvasInfo>;
  const info = { name, width: Number(value.width), height: Number(value.height), background: Number(value.background), createdUnixMs: Number(value.createdUnixMs) };
  const invalid = invalidCanvasSpec(info);
  if (invalid !== undefined || !Number.isSafeInteger(info.createdUnixMs)) throw new Error(`registry entry of canvas "${name}" is corrupt: ${invalid ?? "created time"}`);
  return info;
}

/** The stored form of an entry (the name is the key). */
export function formatCanvasInfo(info: CanvasInfo): string {
  return JSON.stringify({ width: info.width, height: info.height, background: info.background, createdUnixMs: info.createdUnixMs });
}
