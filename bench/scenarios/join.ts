import { LatencyHistogram, summarizeMicros } from "../latency-histogram.js";
import { joinViewport, type JoinOutcome } from "../load/join-client.js";
import { ProcSampler, readProc, round } from "../proc-stats.js";
import { checkTileIsolation } from "./tile-isolation.js";
import { mulberry32 } from "../../tools/prng.js";
import { prepaint } from "./prepaint.js";
import type { Scenario } from "./scenario.js";

const defaults = {
  clients: 100,
  width: 2048,
  height: 2048,
  /** The screen each client shows, in CSS pixels, and its zoom (screen pixels per canvas pixel). */
  "screen-width": 1280,
  "screen-height": 800,
  zoom: 8,
  /** Pre-painted art: cells of one colour this many pixels wide, this share of them painted. */
  "paint-cell": 4,
  "paint-fraction": 0.6,
  seed: 1,
  /** Longest a join may take before it counts as failed. */
  "join-timeout-ms": 30_000,
  /**
   * Clients that join one after another before the burst and stay (the front balances /ws round
   * robin, so 2 puts one in each gateway's room): the canvas is in use, as a popular one is. Their
   * joins are the cold ones: a gateway opening a room reads the canvas head and its recent history.
   * 0 measures a burst into cold rooms.
   */
  resident: 2,
  /** Batches painted outside the watched tile in the isolation check. */
  "isolation-batches": 20,
};

const KIB = 1024;
const MIB = 1024 * 1024;
/** The registry name of the canvas CANVAS_WIDTH x CANVAS_HEIGHT sizes. */
const CANVAS_ID = "default";

/**
 * Issue 9's join goal: N clients join a pre-painted canvas at once, each at a random viewport, the
 * way the web app does (balancer /ws, Hello protocol 2, Watch of the visible level-0 tiles, GET and
 * decode each tile PNG through the balancer's /api), timed from connect start to the last visible
 * tile decoded; bytes per join; the peak RSS of every server process; and whether a client watching
 * one tile receives batches for others.
 */
export const join: Scenario<typeof defaults> = {
  name: "join",
  description: "100 clients join a pre-painted 2048x2048 canvas at once, each a 1280x800 view at zoom 8: time to a painted viewport, bytes per join, peak RSS, tile isolation",
  defaults,
  // A browser reaches /ws and /api/tiles through one origin: the cluster's haproxy front.
  methodDefaults: { outsider: { entry: "haproxy" }, scanner: { entry: "haproxy" } },
  // The pre-paint writes 10,000-pixel SetPixels calls as one caller; a placement budget (1,000 at
  // once by default) would refuse them. Joins place nothing, so the budget does not touch what is measured.
  serverEnv: () => ({ CANVAS_BUDGETS: `${CANVAS_ID}:off` }),
  async run(ctx) {
    const f = ctx.flags;
    const front = ctx.system.frontUrl;
    const canvasUrl = ctx.system.canvasUrls[0];
    if (front === undefined || canvasUrl === undefined) throw new Error("join needs --target ours (tiles and protocol 2)");
    const wsUrl = `${front.replace(/^http/, "ws")}/ws`;
    const paintStarted = performance.now();
    const painted = await prepaint({ canvasUrl, canvasId: CANVAS_ID, width: f.width, height: f.height, cell: f["paint-cell"], fraction: f["paint-fraction"], seed: f.seed });
    ctx.log(`pre-painted ${painted} pixels in ${((performance.now() - paintStarted) / 1000).toFixed(1)} s`);

    const viewWidth = Math.min(f.width, Math.ceil(f["screen-width"] / f.zoom));
    const viewHeight = Math.min(f.height, Math.ceil(f["screen-height"] / f.zoom));
    const random = mulberry32(f.seed + 1);
    const views = Array.from({ length: f.clients }, () => ({
      x: Math.floor(random() * (f.width - viewWidth + 1)),
      y: Math.floor(random() * (f.height - viewHeight + 1)),
      width: viewWidth,
      height: viewHeight,
    }));
    const residents = [];
    for (let i = 0; i < f.resident; i++) {
      const r = joinViewport({ wsUrl, httpBase: front, canvasId: CANVAS_ID, view: views[i % views.length]!, timeoutMs: f["join-timeout-ms"] });
      residents.push({ join: r, outcome: await r.outcome });
    }
    const coldJoins = residents.map((r) => round(r.outcome.paintedMs, 1));
    if (coldJoins.length > 0) ctx.log(`${coldJoins.length} resident client(s) joined one by one in ${coldJoins.join(", ")} ms`);
    const sampler = new ProcSampler(ctx.processes, 100);
    sampler.start();
    ctx.log(`${f.clients} clients joining at once, each a ${viewWidth}x${viewHeight} view`);
    const joins = views.map((view) => joinViewport({ wsUrl, httpBase: front, canvasId: CANVAS_ID, view, timeoutMs: f["join-timeout-ms"] }));
    const settled = await Promise.allSettled(joins.map((j) => j.outcome));
    const usage = sampler.stop();
    for (const j of [...joins, ...residents.map((r) => r.join)]) j.close();
    const ok = settled.filter((s): s is PromiseFulfilledResult<JoinOutcome> => s.status === "fulfilled").map((s) => s.value);
    const firstError = settled.find((s): s is PromiseRejectedResult => s.status === "rejected")?.reason as Error | undefined;

    const painting = LatencyHistogram.create();
    for (const o of ok) painting.record(o.paintedMs * 1000);
    const latency = summarizeMicros(painting);
    const bytes = ok.map((o) => o.wsBytes + o.tileBodyBytes + o.httpHeaderBytes).sort((a, b) => a - b);
    const tiles = ok.map((o) => o.tiles);
    const tileBodies = ok.reduce((a, o) => a + o.tileBodyBytes, 0);

    const retries: Record<string, number> = {};
    for (const o of ok) for (const [reason, n] of Object.entries(o.tileRetries)) retries[reason] = (retries[reason] ?? 0) + n;
    const isolation = await checkTileIsolation(wsUrl, CANVAS_ID, f["isolation-batches"]);
    const peaks = ctx.processes.filter((p) => p.role !== "load-generator").map((p) => ({ role: p.role, peakMiB: round((readProc(p.pid)?.peakRssBytes ?? 0) / MIB, 1) }));
    const headline: Record<string, number | string | boolean> = {
      joined: ok.length,
      failed: settled.length - ok.length,
      paintedP50Ms: latency.p50Ms,
      paintedP99Ms: latency.p99Ms,
      paintedMaxMs: latency.maxMs,
      residentJoinsMs: coldJoins.join(", ") || "none",
      bytesPerJoinP50KiB: round((bytes[Math.floor(bytes.length / 2)] ?? 0) / KIB, 1),
      bytesPerJoinMaxKiB: round((bytes.at(-1) ?? 0) / KIB, 1),
      tileRetries: Object.values(retries).reduce((a, n) => a + n, 0),
      joinsWithRetries: ok.filter((o) => Object.keys(o.tileRetries).length > 0).length,
      tilesPerJoinMax: Math.max(0, ...tiles),
      meanTilePngBytes: round(tileBodies / Math.max(1, tiles.reduce((a, t) => a + t, 0)), 0),
      peakRssMaxMiB: Math.max(0, ...peaks.map((p) => p.peakMiB)),
      isolationBatchFramesSeen: isolation.batchFramesBeforeControl,
      isolationControlReceived: isolation.controlReceived,
    };
    for (const p of peaks) headline[`peakRssMiB_${p.role}`] = p.peakMiB;
    return {
      phases: [],
      headline,
      notes: [
        `canvas ${CANVAS_ID} ${f.width}x${f.height}, pre-painted with ${painted} pixels (cells of ${f["paint-cell"]} px, ${f["paint-fraction"] * 100} % of them, 16 colours, seed ${f.seed})`,
        `painted = connect start to the last visible tile decoded (fast-png) with the Watching received; clients through the balancer (${wsUrl}, ${front}/api/tiles/...), each with its own HTTP agent (6 keep-alive connections); SESSIONS=optional (the bench cluster's setting), so no POST /session`,
        `${f.resident} resident client(s) joined one by one before the burst and stayed, so the burst joins rooms in use; their (cold-room) joins took ${coldJoins.join(", ") || "–"} ms and are not in the burst figures`,
        `painted latency: ${JSON.stringify(latency)}`,
        `bytes per join = WebSocket frame payloads both ways + tile PNG bodies + tile request and response headers (WebSocket handshake not counted, ~0.5 KiB); all joins: ${bytes.length ? `min ${bytes[0]} B, p50 ${bytes[Math.floor(bytes.length / 2)]} B, max ${bytes.at(-1)} B` : "none"}`,
        `peak RSS = VmHWM of each server process at the end (covers pre-paint, joins and the isolation check)`,
        `join window usage: ${usage.map((u) => `${u.role} ${u.cpuPercent} % CPU, RSS max ${u.rssMaxMiB} MiB`).join("; ")}`,
        `isolation: a client watching tile 0:0 got ${isolation.batchFramesBeforeControl} batch frames while another placed ${isolation.placedElsewhere} acked batches in tile 1:0; the control pixel in 0:0 ${isolation.controlReceived ? "arrived" : "did not arrive"}`,
        `tile reads retried (after the web client's backoff, inside the painted time), by reason: ${JSON.stringify(retries)}`,
        ...(firstError ? [`first join error: ${firstError.message}`] : []),
      ],
    };
  },
};
