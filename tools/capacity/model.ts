/**
 * The capacity model: from the per-process figures (inputs.ts) and the simulated behaviours
 * (sample.ts), the processes each tier needs for a scenario, and where the first limit is.
 * docs/scaling.md explains every step; `node dist/tools/capacity/simulate.js` prints the tables.
 */
import type { Inputs } from "./inputs.js";
import { simulateFanout, simulateSubscribers, simulateWriter } from "./sample.js";

/** A load and the deployment choices it is planned with. */
export interface Scenario {
  name: string;
  /** Connected users (one WebSocket each), spread evenly over the canvases. */
  users: number;
  canvases: number;
  /** Level-0 tiles (256 × 256 px) per side of each canvas. */
  tilesX: number;
  tilesY: number;
  /** Placements per connected user per second. */
  pixelsPerUserSecond: number;
  /** FANOUT_TICK_MAX_MS: a big room flushes at most once per tick. */
  tickMs: number;
  /** How sockets reach gateways: a balancer spreading them evenly, or routing by canvas name. */
  routing: "random" | "affinity";
  /** Who batches a canvas's writes: every gateway with members (today), or this many canvas replicas merging concurrent writes per canvas. */
  writers: "gateways" | number;
  /** Processes sharing the Pub/Sub delivery of a shard's messages: 1 = the primary alone; more = replicas serving SSUBSCRIBE or a relay tier. */
  readNodesPerShard: number;
}

/** The model's answer for one scenario. */
export interface Plan {
  scenario: Scenario;
  pixelsPerSecond: number;
  perCanvasPixelsPerSecond: number;
  socketsPerGatewayLimit: number;
  framesPerSocketSecond: number;
  gatewaysByConnections: number;
  gatewaysByFrames: number;
  gateways: number;
  subscribersPerCanvas: number;
  batchesPerCanvasSecond: number;
  pixelsPerBatch: number;
  /** Redis CPU (cores) of the busiest node holding the one slot of a canvas: its writes plus its share of deliveries. */
  hotSlotCores: number;
  redisCores: number;
  redisShards: number;
  canvasCores: number;
  canvasReplicas: number;
  gatewayCores: number;
  /** The limit hit first, in words. */
  bottleneck: string;
}

const SIM_SECONDS = 20;
const SIM_SOCKETS = 2_000;
const SIM_WRITES = 20_000;
const SEED = 13;

/** Sockets one gateway holds: MAX_CONNECTIONS, or fewer if their memory would not fit the limit. */
export function socketsPerGateway(i: Inputs): number {
  const byMemory = Math.floor(((i.gatewayMemoryLimitMiB - i.gatewayBaseRssMiB) * 1024) / i.gatewayRssPerConnectionKiB);
  return Math.min(i.gatewayMaxConnections, byMemory);
}

/** Redis CPU in µs for `batches` Lua writes of `pixels` pixels each. */
export function redisWriteMicros(i: Inputs, batches: number, pixels: number): number {
  return batches * (i.redisMicrosPerBatch + i.redisMicrosPerPixel * pixels);
}

/** Canvas service CPU in µs for `batches` SetPixels requests of `pixels` pixels each. */
export function canvasMicros(i: Inputs, batches: number, pixels: number): number {
  return batches * (i.canvasMicrosPerBatch + i.canvasMicrosPerPixel * pixels);
}

/** Plans one scenario. */
export function plan(s: Scenario, i: Inputs): Plan {
  const pixelsPerSecond = s.users * s.pixelsPerUserSecond;
  const perCanvasPixelsPerSecond = pixelsPerSecond / s.canvases;
  const membersPerCanvas = s.users / s.canvases;
  const perGateway = socketsPerGateway(i);
  const { framesPerSocketSecond } = simulateFanout({
    pixelsPerSecond: perCanvasPixelsPerSecond,
    tilesX: s.tilesX,
    tilesY: s.tilesY,
    watch: Math.round(Math.sqrt(i.tilesWatchedPerSocket)),
    zipf: i.tileZipfExponent,
    tickMs: s.tickMs,
    seconds: SIM_SECONDS,
    sockets: SIM_SOCKETS,
    seed: SEED,
  });
  const target = i.targetUtilization;
  const gatewaysByConnections = Math.ceil(s.users / perGateway);
  const gatewayCores = (s.users * framesPerSocketSecond) / i.gatewayFramesPerCoreSecond;
  const gatewaysByFrames = Math.ceil(gatewayCores / target);
  const gateways = Math.max(gatewaysByConnections, gatewaysByFrames);
  const subscribersPerCanvas = simulateSubscribers({ members: membersPerCanvas, gateways, perGateway: Math.ceil(s.users / gateways), routing: s.routing, samples: 5, seed: SEED });

  const writers = s.writers === "gateways" ? subscribersPerCanvas : s.writers;
  const writerRate = perCanvasPixelsPerSecond / writers;
  // Long enough for about SIM_WRITES placements, however slow one writer is.
  const one = simulateWriter({ pixelsPerSecond: writerRate, roundTripMs: i.writeRoundTripMs, seconds: Math.max(SIM_SECONDS, SIM_WRITES / writerRate), seed: SEED });
  const batchesPerCanvasSecond = one.batchesPerSecond * writers;
  const pixelsPerBatch = one.pixelsPerBatch;

  const deliveriesPerCanvas = batchesPerCanvasSecond * subscribersPerCanvas * i.redisMicrosPerDelivery;
  const writePerCanvas = redisWriteMicros(i, batchesPerCanvasSecond, pixelsPerBatch);
  const hotSlotCores = (writePerCanvas + deliveriesPerCanvas / s.readNodesPerShard) / 1e6;
  const redisCores = (s.canvases * (writePerCanvas + deliveriesPerCanvas)) / 1e6;
  const perShardCores = (s.canvases * (writePerCanvas + deliveriesPerCanvas / s.readNodesPerShard)) / 1e6;
  // Redis Cluster needs 3 primaries for a majority; a canvas never spans shards.
  const redisShards = Math.max(3, Math.min(s.canvases, Math.ceil(perShardCores / target)));
  const canvasCores = canvasMicros(i, batchesPerCanvasSecond * s.canvases, pixelsPerBatch) / 1e6;
  const canvasReplicas = Math.max(2, Math.ceil(canvasCores / target), s.writers === "gateways" ? 0 : s.writers);

  const tiers: [string, number][] = [
    [`gateways (${gatewaysByFrames > gatewaysByConnections ? `fan-out frames: ${Math.round(framesPerSocketSecond)} per socket per second` : `connections: ${perGateway.toLocaleString("en-US")} sockets each`})`, gateways],
    ["canvas replicas (SetPixels CPU)", canvasReplicas],
    ["Redis primaries (Lua writes and Pub/Sub deliveries)", redisShards],
  ];
  let bottleneck: string;
  if (hotSlotCores > target) {
    const ceilingUsers = hotSlotCeiling(s, i);
    bottleneck = `one canvas = one slot = one primary: ${hotSlotCores.toFixed(2)} cores of Redis needed on the node that owns it (${Math.round(batchesPerCanvasSecond).toLocaleString("en-US")} scripts/s, each published to ${Math.round(subscribersPerCanvas).toLocaleString("en-US")} gateways), one core available; the ceiling is about ${ceilingUsers.toLocaleString("en-US")} users`;
  } else {
    const [name] = tiers.reduce((a, b) => (b[1] > a[1] ? b : a));
    bottleneck = name;
  }
  return {
    scenario: s,
    pixelsPerSecond,
    perCanvasPixelsPerSecond,
    socketsPerGatewayLimit: perGateway,
    framesPerSocketSecond,
    gatewaysByConnections,
    gatewaysByFrames,
    gateways,
    subscribersPerCanvas,
    batchesPerCanvasSecond,
    pixelsPerBatch,
    hotSlotCores,
    redisCores,
    redisShards,
    canvasCores,
    canvasReplicas,
    gatewayCores,
    bottleneck,
  };
}

/**
 * The most users (to 2 significant digits) the scenario serves before the node owning a canvas's
 * slot passes the target utilization: found by bisection, since more users also means more
 * gateways and so more deliveries per script (the cost grows faster than the users).
 */
export function hotSlotCeiling(s: Scenario, i: Inputs): number {
  let low = 1;
  let high = s.users;
  while (high / low > 1.01) {
    const mid = Math.sqrt(low * high);
    if (plan({ ...s, users: Math.round(mid) }, i).hotSlotCores > i.targetUtilization) high = mid;
    else low = mid;
  }
  return Number(low.toPrecision(2));
}
