/**
 * The scenarios of docs/scaling.md: 10 million connected users on one 4096 × 4096 canvas, and on
 * 10,000 small canvases, at r/place's rates, with today's settings and with the mitigations.
 */
import { R_PLACE } from "./inputs.js";
import type { Scenario } from "./model.js";

/** Every connected user placing one pixel per r/place cooldown (5 minutes): the upper bound. */
export const COOLDOWN_RATE = 1 / R_PLACE.cooldownSeconds.value;
/** r/place 2022's peak hour: 5.9M pixels per hour among 2.8M visitors at the peak. */
export const PEAK_2022_RATE = R_PLACE.peakPixelsPerHour2022.value / 3600 / R_PLACE.peakVisitors2022.value;

const USERS = 10_000_000;
/** Today's defaults: FANOUT_TICK_MAX_MS=20, sockets spread by the balancer, one write in flight per gateway and canvas, deliveries from the primary. */
const TODAY = { tickMs: 20, routing: "random", writers: "gateways", readNodesPerShard: 1 } as const;

const oneCanvas = { users: USERS, canvases: 1, tilesX: 16, tilesY: 16 };
const smallCanvases = { users: USERS, canvases: 10_000, tilesX: 1, tilesY: 1 };

/** The scenarios, in the order docs/scaling.md shows them. */
export const SCENARIOS: Scenario[] = [
  { name: "A1 one 4096² canvas, every user at the cooldown, today's settings", ...oneCanvas, pixelsPerUserSecond: COOLDOWN_RATE, ...TODAY },
  { name: "A2 one 4096² canvas, r/place 2022 peak-hour rate, today's settings", ...oneCanvas, pixelsPerUserSecond: PEAK_2022_RATE, ...TODAY },
  {
    name: "A3 as A1 with 8 canvas replicas merging writes, 16 read nodes, 100 ms tick",
    ...oneCanvas,
    pixelsPerUserSecond: COOLDOWN_RATE,
    tickMs: 100,
    routing: "random",
    writers: 8,
    readNodesPerShard: 16,
  },
  { name: "B1 10,000 canvases of 256², every user at the cooldown, today's settings", ...smallCanvases, pixelsPerUserSecond: COOLDOWN_RATE, ...TODAY },
  { name: "B2 as B1, sockets routed to gateways by canvas name", ...smallCanvases, pixelsPerUserSecond: COOLDOWN_RATE, ...TODAY, routing: "affinity" },
];
