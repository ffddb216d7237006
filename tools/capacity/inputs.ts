/**
 * The capacity model's inputs: per-process figures measured by this repository's benchmarks
 * (each names the result file it comes from) and the assumptions the model makes where nothing
 * was measured. docs/scaling.md prints both tables from here.
 */

/** One input with where it comes from. */
export interface Figure {
  value: number;
  unit: string;
  /** A committed result file or a setting; "assumption" when nothing was measured. */
  source: string;
}

/** Figures measured on the 2-core machine (load generator on the same cores: conservative). */
export const MEASURED = {
  /** Sockets one gateway accepts before refusing with 1013 (the connections bench held 10,000). */
  gatewayMaxConnections: { value: 20_000, unit: "sockets", source: "MAX_CONNECTIONS default (services/shared/config.ts); 10,000 held in connections-ours-2026-11-22T03-25-55-361Z" },
  gatewayRssPerConnectionKiB: { value: 9.58, unit: "KiB per idle socket", source: "compare-connections-2026-11-22T04-20-58-144Z" },
  gatewayBaseRssMiB: { value: 87, unit: "MiB", source: "join-ours-2026-12-02T07-39-28-623Z (peak gateway RSS, 100 joins)" },
  gatewayMemoryLimitMiB: { value: 512, unit: "MiB", source: "k8s/base/gateway.yaml limits" },
  /** Socket writes (frames) per second one gateway core sustains; 66 % of it is writev. */
  gatewayFramesPerCoreSecond: { value: 101_000, unit: "frames/s per core", source: "fanout-ours-2026-11-22T03-22-37-534Z: 91k frames/s from 2 gateways at 45 % of a core each" },
  canvasMicrosPerBatch: { value: 75.1, unit: "µs CPU per SetPixels batch", source: "rpc-2026-11-22T03-47-00-557Z: WritePixels x1 11,007/s at 84.1 %, x1000 548/s at 74.7 % (fit a + b·pixels)" },
  canvasMicrosPerPixel: { value: 1.29, unit: "µs CPU per pixel", source: "same fit" },
  redisMicrosPerBatch: { value: 26.1, unit: "µs Redis CPU per batch (Lua script)", source: "rpc-2026-11-22T03-47-00-557Z: WritePixels x1 at Redis 29.2 %, x1000 at 24 % (fit a + b·pixels)" },
  redisMicrosPerPixel: { value: 0.41, unit: "µs Redis CPU per pixel", source: "same fit" },
} satisfies Record<string, Figure>;

/** What the model assumes where nothing here measured it. */
export const ASSUMED = {
  /** Redis CPU to hand one published message to one subscribed connection (sharded Pub/Sub). */
  redisMicrosPerDelivery: { value: 1.0, unit: "µs per message per subscriber", source: "assumption: measure with the scaled-down run in docs/scaling.md" },
  /** Busy share each process is planned at; the rest absorbs bursts and failovers. */
  targetUtilization: { value: 0.7, unit: "of one core", source: "assumption (headroom)" },
  /** Gateway → canvas → Lua script → WAIT 1 → back: how long a gateway's write to one canvas is in flight. */
  writeRoundTripMs: { value: 3, unit: "ms", source: "assumption (in-cluster RTTs plus one replica ack)" },
  /** Level-0 tiles a socket watches: a 1280×800 view at zoom ≥ 4 spans at most 2×2 tiles of 256 px. */
  tilesWatchedPerSocket: { value: 4, unit: "tiles", source: "assumption (web app view)" },
  /** How unevenly placements spread over tiles: Zipf exponent over tiles (0 = uniform). */
  tileZipfExponent: { value: 1.0, unit: "Zipf s", source: "assumption (a few contested areas)" },
} satisfies Record<string, Figure>;

/** Published r/place figures the scenarios are built on. */
export const R_PLACE = {
  cooldownSeconds: { value: 300, unit: "s between placements per user", source: "Reddit, How we built r/place (2017): one tile per user every 5 minutes (the 2022 rule for verified accounts)" },
  peakPixelsPerHour2022: { value: 5_900_000, unit: "pixels/hour", source: "Reddit, r/Place: The Recap (Part 1), 2022-04-07: over 5.9M pixels placed per hour at the peak" },
  peakPlacersPerHour2022: { value: 1_700_000, unit: "people/hour", source: "same recap: over 1.7M people setting tiles per hour" },
  peakVisitors2022: { value: 2_800_000, unit: "unique visitors at the peak", source: "same recap: 2.8 million unique visitors at the peak" },
} satisfies Record<string, Figure>;

/** Every input as plain numbers, the shape the model reads; tests and runs override fields. */
export interface Inputs {
  gatewayMaxConnections: number;
  gatewayRssPerConnectionKiB: number;
  gatewayBaseRssMiB: number;
  gatewayMemoryLimitMiB: number;
  gatewayFramesPerCoreSecond: number;
  canvasMicrosPerBatch: number;
  canvasMicrosPerPixel: number;
  redisMicrosPerBatch: number;
  redisMicrosPerPixel: number;
  redisMicrosPerDelivery: number;
  targetUtilization: number;
  writeRoundTripMs: number;
  tilesWatchedPerSocket: number;
  tileZipfExponent: number;
}

/** The measured figures and assumptions above, as the model's inputs. */
export function defaultInputs(): Inputs {
  const all = { ...MEASURED, ...ASSUMED };
  return Object.fromEntries(Object.entries(all).map(([k, f]) => [k, f.value])) as unknown as Inputs;
}
