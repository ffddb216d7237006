import { CANVAS_ID_PATTERN, ConfigError } from "../shared/config.js";
import { scaleRule, type BudgetRule } from "./placement-budget.js";

/** The per-network budget is this many times the per-person one unless IP_BUDGET_FACTOR says otherwise. */
export const DEFAULT_IP_BUDGET_FACTOR = 4;

/** The placement budgets of every canvas, as configured (see `parseBudgetSettings`). */
export interface BudgetSettings {
  /** Per canvas id: its rule, or "off" for no budget. */
  perCanvas: ReadonlyMap<string, BudgetRule | "off">;
  /** The rule of canvases not listed ("*" in CANVAS_BUDGETS, else the PIXELS_PER_SECOND / PIXEL_BURST bucket). */
  fallback: BudgetRule | "off";
  /** Per-network allowance = per-person allowance x this; 0 disables the per-network budget. */
  ipFactor: number;
}

/** The budgets one placement on a canvas is checked against; undefined when the canvas has none. */
export interface CanvasBudget {
  user: BudgetRule;
  /** Undefined when the per-network budget is disabled. */
  ip: BudgetRule | undefined;
}

/** The budgets of `canvasId` under `settings`. */
export function canvasBudget(settings: BudgetSettings | undefined, canvasId: string): CanvasBudget | undefined {
  if (settings === undefined) return undefined;
  const rule = settings.perCanvas.get(canvasId) ?? settings.fallback;
  if (rule === "off") return undefined;
  return { user: rule, ip: settings.ipFactor > 0 ? scaleRule(rule, settings.ipFactor) : undefined };
}

const NAME = "CANVAS_BUDGETS";

function number(raw: string | undefined, what: string, entry: string, integer: boolean): number {
  const value = Number(raw);
  if (raw === undefined || raw === "" || !Number.isFinite(value) || value <= 0 || value > 10_000_000 || (integer && !Number.isInteger(value))) {
    throw new ConfigError(`${NAME} entry "${entry}": ${what} must be ${integer ? "an integer" : "a number"} above 0 and at most 10000000`);
  }
  return value;
}

/** Parses one `rate=R,burst=B`, `cooldown=MS,pixels=N` or `off`. */
function parseRule(spec: string, entry: string): BudgetRule | "off" {
  if (spec === "off") return "off";
  const fields = new Map<string, string>();
  for (const part of spec.split(",")) {
    const [key, value, extra] = part.split("=").map((s) => s.trim());
    if (!key || value === undefined || extra !== undefined || fields.has(key)) throw new ConfigError(`${NAME} entry "${entry}": "${part}" must be one key=value`);
    fields.set(key, value);
  }
  const keys = [...fields.keys()].sort().join(",");
  if (keys === "burst,rate") {
    return { kind: "rate", perSecond: number(fields.get("rate"), "rate (pixels per second)", entry, false), burst: number(fields.get("burst"), "burst (pixels)", entry, true) };
  }
  if (keys === "cooldown,pixels") {
    return { kind: "cooldown", pixels: number(fields.get("pixels"), "pixels", entry, true), cooldownMs: number(fields.get("cooldown"), "cooldown (ms)", entry, true) };
  }
  throw new ConfigError(`${NAME} entry "${entry}" must be <canvas>:rate=R,burst=B or <canvas>:cooldown=MS,pixels=N or <canvas>:off`);
}

/**
 * Reads CANVAS_BUDGETS and IP_BUDGET_FACTOR, validated at the edge. CANVAS_BUDGETS is a `;`-separated
 * list of `<canvas id or *>:<rule>`, a rule being `rate=R,burst=B` (token bucket, R pixels/s, up to B
 * at once), `cooldown=MS,pixels=N` (N pixels, then wait until MS after the first) or `off`. Canvases not
 * listed take the `*` rule, else a bucket of PIXELS_PER_SECOND / PIXEL_BURST (the defaults).
 */
export function parseBudgetSettings(env: NodeJS.ProcessEnv, defaults: { pixelsPerSecond: number; pixelBurst: number }): BudgetSettings {
  const perCanvas = new Map<string, BudgetRule | "off">();
  let fallback: BudgetRule | "off" = { kind: "rate", perSecond: defaults.pixelsPerSecond, burst: defaults.pixelBurst };
  let sawFallback = false;
  for (const raw of (env[NAME] ?? "").split(";")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const colon = entry.indexOf(":");
    const canvas = entry.slice(0, colon).trim();
    if (colon < 0 || (canvas !== "*" && !CANVAS_ID_PATTERN.test(canvas))) {
      throw new ConfigError(`${NAME} entry "${entry}" must start with a canvas id (or *) and a colon`);
    }
    if (perCanvas.has(canvas) || (canvas === "*" && sawFallback)) throw new ConfigError(`${NAME} names "${canvas}" twice`);
    const rule = parseRule(entry.slice(colon + 1).trim(), entry);
    if (canvas === "*") {
      fallback = rule;
      sawFallback = true;
    } else {
      perCanvas.set(canvas, rule);
    }
  }
  const rawFactor = env.IP_BUDGET_FACTOR;
  let ipFactor = DEFAULT_IP_BUDGET_FACTOR;
  if (rawFactor !== undefined && rawFactor !== "") {
    ipFactor = Number(rawFactor);
    if (!Number.isInteger(ipFactor) || ipFactor < 0 || ipFactor > 1_000_000) {
      throw new ConfigError(`IP_BUDGET_FACTOR=${rawFactor} must be an integer from 0 (no per-network budget) to 1000000`);
    }
  }
  return { perCanvas, fallback, ipFactor };
}
