/**
 * The three behaviours the capacity model does not take as closed forms but simulates, with a
 * seeded generator so every run prints the same figures: how a gateway's writes to one canvas
 * batch up (one write in flight per canvas), how many fan-out frames a socket receives (coalesced
 * per tick, only for batches touching the tiles it watches), and how many gateways hold members
 * of one canvas (each of them subscribes to the canvas's channel).
 */
import { Prng } from "../prng.js";

/** A uniform draw in (0, 1]. */
function unit(rng: Prng): number {
  return (rng.next() + 1) / 0x1_0000_0000;
}

/** A Poisson draw: Knuth's product method for small means, a rounded normal above 30. */
export function poisson(rng: Prng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) {
    const normal = Math.sqrt(-2 * Math.log(unit(rng))) * Math.cos(2 * Math.PI * unit(rng));
    return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal));
  }
  const limit = Math.exp(-mean);
  let k = 0;
  let p = unit(rng);
  while (p > limit) {
    k++;
    p *= unit(rng);
  }
  return k;
}

/** What one writer's batching gives: batches per second and pixels per batch. */
export interface WriterResult {
  batchesPerSecond: number;
  pixelsPerBatch: number;
}

/**
 * One writer (a gateway's queue for one canvas, WRITE_MAX_IN_FLIGHT=1): Poisson placements at
 * `pixelsPerSecond`; an idle writer sends at once, a busy one sends everything queued when its
 * write returns after `roundTripMs`.
 */
export function simulateWriter(opts: { pixelsPerSecond: number; roundTripMs: number; seconds: number; seed: number }): WriterResult {
  const rng = new Prng(opts.seed);
  const d = opts.roundTripMs / 1000;
  let t = 0;
  let busyUntil = 0;
  let pending = 0;
  let batches = 0;
  let pixels = 0;
  for (;;) {
    t += -Math.log(unit(rng)) / opts.pixelsPerSecond;
    if (t > opts.seconds) break;
    if (pending > 0 && busyUntil <= t) {
      batches++;
      pixels += pending;
      pending = 0;
      busyUntil += d;
    }
    if (busyUntil <= t) {
      batches++;
      pixels++;
      busyUntil = t + d;
    } else {
      pending++;
    }
  }
  if (pending > 0) {
    batches++;
    pixels += pending;
  }
  return { batchesPerSecond: batches / opts.seconds, pixelsPerBatch: batches === 0 ? 0 : pixels / batches };
}

/** Tile weights ∝ 1/rank^s, the ranks shuffled over the grid so hot tiles are scattered. */
export function tileWeights(tiles: number, zipf: number, rng: Prng): number[] {
  const ranks = Array.from({ length: tiles }, (_, i) => i + 1);
  for (let i = ranks.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [ranks[i], ranks[j]] = [ranks[j] as number, ranks[i] as number];
  }
  const raw = ranks.map((r) => 1 / r ** zipf);
  const sum = raw.reduce((a, b) => a + b, 0);
  return raw.map((w) => w / sum);
}

/** Picks an index with probability weights[i] (weights sum to 1). */
function pick(weights: number[], rng: Prng): number {
  let u = unit(rng);
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i] as number;
    if (u <= 0) return i;
  }
  return weights.length - 1;
}

/**
 * Frames per second a socket receives from one canvas of tilesX × tilesY tiles: placements arrive
 * at `pixelsPerSecond` spread over tiles by a Zipf law; each socket watches a block of up to
 * watch × watch tiles around a tile chosen by the same law (people look where others paint); a
 * room flushes once per tick and a socket gets one frame in a flush that holds a batch touching
 * one of its tiles.
 */
export function simulateFanout(opts: {
  pixelsPerSecond: number;
  tilesX: number;
  tilesY: number;
  watch: number;
  zipf: number;
  tickMs: number;
  seconds: number;
  sockets: number;
  seed: number;
}): { framesPerSocketSecond: number } {
  const rng = new Prng(opts.seed);
  const tiles = opts.tilesX * opts.tilesY;
  const weights = tileWeights(tiles, opts.zipf, rng);
  const views: number[][] = [];
  for (let s = 0; s < opts.sockets; s++) {
    const center = pick(weights, rng);
    const x0 = Math.min(center % opts.tilesX, Math.max(0, opts.tilesX - opts.watch));
    const y0 = Math.min(Math.floor(center / opts.tilesX), Math.max(0, opts.tilesY - opts.watch));
    const view: number[] = [];
    for (let y = y0; y < Math.min(opts.tilesY, y0 + opts.watch); y++) {
      for (let x = x0; x < Math.min(opts.tilesX, x0 + opts.watch); x++) view.push(y * opts.tilesX + x);
    }
    views.push(view);
  }
  const ticks = Math.round((opts.seconds * 1000) / opts.tickMs);
  const perTick = (opts.pixelsPerSecond * opts.tickMs) / 1000;
  const touched = new Uint8Array(tiles);
  let frames = 0;
  for (let t = 0; t < ticks; t++) {
    for (let i = 0; i < tiles; i++) touched[i] = poisson(rng, perTick * (weights[i] as number)) > 0 ? 1 : 0;
    for (const view of views) if (view.some((i) => touched[i] === 1)) frames++;
  }
  return { framesPerSocketSecond: frames / opts.sockets / opts.seconds };
}

/**
 * Gateways holding at least one member of a canvas of `members` users: with "random" routing
 * (a balancer spreading sockets evenly) each member lands on any of `gateways`; with "affinity"
 * (routing by canvas name) members fill gateways of `perGateway` sockets one after another.
 */
export function simulateSubscribers(opts: { members: number; gateways: number; perGateway: number; routing: "random" | "affinity"; samples: number; seed: number }): number {
  if (opts.routing === "affinity") return Math.min(opts.gateways, Math.ceil(opts.members / opts.perGateway));
  // Past 20 members per gateway the chance that a gateway holds none is below e^-20.
  if (opts.members >= 20 * opts.gateways) return opts.gateways;
  const rng = new Prng(opts.seed);
  let total = 0;
  for (let s = 0; s < opts.samples; s++) {
    const seen = new Set<number>();
    for (let m = 0; m < opts.members; m++) seen.add(rng.int(opts.gateways));
    total += seen.size;
  }
  return total / opts.samples;
}
