/**
 * The JSON wire format of the design being replaced: one text WebSocket message per
 * pixel, and the same JSON object on Redis Pub/Sub and in the REST body.
 */

/** The one canvas the legacy design serves. */
export const LEGACY_CANVAS_ID = "default";
/** Redis hash holding the legacy canvas, field "x,y" -> "#rrggbb". */
export const LEGACY_CANVAS_KEY = "legacy:canvas:default";
/** Redis Pub/Sub channel every legacy gateway publishes to and subscribes on. */
export const LEGACY_CHANNEL = "legacy:pixels";

/** What a client sends to paint one pixel. */
export interface LegacyPlace {
  type: "place";
  x: number;
  y: number;
  /** "#rrggbb". */
  color: string;
}

/** What every client receives for every painted pixel. */
export interface LegacyPixel {
  type: "pixel";
  x: number;
  y: number;
  color: string;
  /** The connection that placed it. */
  user: string;
}

/** Parses and validates a client's text message; returns an error string for bad input. */
export function parseLegacyPlace(text: string, width: number, height: number): LegacyPlace | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof value !== "object" || value === null) return "not an object";
  const v = value as Record<string, unknown>;
  if (v.type !== "place") return `unknown type ${String(v.type)}`;
  const { x, y, color } = v;
  if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x >= width) return `x=${String(x)} is outside 0..${width - 1}`;
  if (typeof y !== "number" || !Number.isInteger(y) || y < 0 || y >= height) return `y=${String(y)} is outside 0..${height - 1}`;
  if (typeof color !== "string" || !/^#[0-9a-f]{6}$/i.test(color)) return `color=${String(color)} is not #rrggbb`;
  return { type: "place", x, y, color };
}
