import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { CompareResult } from "./compare.js";
import type { BenchResult } from "./report/bench-result.js";
import type { RpcResult } from "./rpc/rpc-bench.js";

/**
 * Smoke runs of the built harness (`node dist/bench/main.js`, as `npm run bench` runs it),
 * a few seconds each with few clients. They check that every scenario runs end to end and
 * writes a valid result, summary and chart; they assert nothing about timings.
 */
const ROOT = resolve(import.meta.dirname, "..");
const out = mkdtempSync(join(tmpdir(), "pixel-bench-smoke-"));
const run = promisify(execFile);

async function bench(args: string[]): Promise<BenchResult> {
  const before = new Set(readdirSync(out));
  await run(process.execPath, [join(ROOT, "dist/bench/main.js"), ...args, "--out", out, "--warmup-seconds", "0"], { cwd: ROOT, timeout: 60_000 });
  const added = readdirSync(out).filter((f) => !before.has(f));
  const json = added.find((f) => f.endsWith(".json"));
  expect(json, `a result file among ${added.join(", ")}`).toBeDefined();
  const base = json!.slice(0, -".json".length);
  expect(added.sort()).toEqual([`${base}.json`, `${base}.md`, `${base}.svg`]);
  const result = JSON.parse(readFileSync(join(out, json!), "utf8")) as BenchResult;
  const md = readFileSync(join(out, `${base}.md`), "utf8");
  expect(md).toContain(`# ${result.scenario} — ${result.target}`);
  expect(md).toContain(`![latency CDF](${base}.svg)`);
  const svg = readFileSync(join(out, `${base}.svg`), "utf8");
  expect(svg.startsWith("<svg")).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  expect(result.run.git.commit).toMatch(/^[0-9a-f]{40}$/);
  expect(result.run.machine.cores).toBeGreaterThan(0);
  expect(result.run.node).toBe(process.version);
  expect(result.run.command).toContain(`npm run bench -- ${args[0]}`);
  for (const phase of result.phases) {
    expect(phase.processes.some((p) => p.role === "load-generator" && p.cpuSeconds >= 0)).toBe(true);
    expect(phase.processes.some((p) => p.role === "redis")).toBe(true);
  }
  return result;
}

afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("benchmark harness against the legacy peer", () => {
  it("seed-stress delivers every pixel to every steady client, counts churn and writes JSON, summary and chart", async () => {
    const r = await bench(["seed-stress", "--target", "legacy", "--duration", "3", "--clients", "6", "--rate", "60", "--churn", "2", "--churn-lifetime-ms", "1000"]);
    const p = r.phases[0]!;
    expect(p.sent).toBeGreaterThan(100);
    expect(p.readers).toBe(6);
    expect(p.lost).toBe(0);
    expect(p.received).toBe(p.sent * 6);
    expect(p.latency.count).toBeGreaterThanOrEqual(p.sent * 5);
    expect(p.churnConnects).toBeGreaterThan(0);
    expect(p.processes.filter((u) => u.role.startsWith("legacy-gateway"))).toHaveLength(2);
    expect(r.headline.pixelsLost).toBe(0);
  });

  it("knee steps the rate up and reports the last step that held", async () => {
    const r = await bench(["knee", "--target", "legacy", "--clients", "4", "--workers", "1", "--start-rate", "20", "--factor", "2", "--max-rate", "40", "--step-seconds", "1", "--p99-limit-ms", "600000", "--max-send-lag-ms", "600000"]);
    expect(r.phases.map((p) => p.targetPixelsPerSecond)).toEqual([20, 40]);
    expect(r.headline.kneePixelsPerSecond).toBeGreaterThan(0);
  });

  it("connections reports RSS per connection and the time to connect all", async () => {
    const r = await bench(["connections", "--target", "legacy", "--clients", "40", "--duration", "1", "--settle-ms", "200"]);
    expect(r.headline.connected).toBe(40);
    expect(Number.isFinite(r.headline.rssPerConnectionKiB), `rssPerConnectionKiB = ${r.headline.rssPerConnectionKiB}`).toBe(true);
    expect(r.headline.secondsToConnectAll).toBeGreaterThan(0);
  });

  it("fanout spreads clients over two worker threads and loses nothing", async () => {
    const r = await bench(["fanout", "--target", "legacy", "--clients", "20", "--rate", "20", "--duration", "2"]);
    expect(r.generator.workers).toBe(2);
    expect(r.phases[0]!.lost).toBe(0);
  });
});

describe("benchmark harness against ours", () => {
  it("outsider method: every reader decodes every frame, every delivery is timed, losses are counted per reader", async () => {
    const r = await bench(["seed-stress", "--target", "ours", "--method", "outsider", "--duration", "3", "--clients", "6", "--rate", "60", "--churn", "2", "--churn-lifetime-ms", "1000"]);
    const p = r.phases[0]!;
    expect(r.parameters.method).toBe("outsider");
    expect(p.sent).toBeGreaterThan(100);
    expect(p.readers).toBe(6);
    expect(p.frames).toBeGreaterThan(0);
    expect(p.decodedFrames).toBe(p.frames);
    // Every steady reader's deliveries, the writer's own echo included, plus the churning clients'.
    expect(p.latency.count).toBeGreaterThanOrEqual(p.received);
    expect(p.received + p.lost).toBe(p.expectedPerReader * p.readers);
    expect(Number.isFinite(p.latency.p99Ms) && p.latency.p99Ms > 0).toBe(true);
    expect(p.lost).toBe(0);
    expect(p.seqGaps).toBe(0);
    expect(p.ackLatency.count).toBe(p.sent);
    expect(p.processes.filter((u) => u.role.startsWith("gateway-"))).toHaveLength(2);
    expect(p.processes.filter((u) => u.role.startsWith("canvas-"))).toHaveLength(1);
  });

  it("scanner method: batches are scanned in place, only other clients' deliveries are timed, losses are counted per reader", async () => {
    const r = await bench(["seed-stress", "--target", "ours", "--method", "scanner", "--duration", "3", "--clients", "6", "--rate", "60", "--churn", "0"]);
    const p = r.phases[0]!;
    expect(r.parameters.method).toBe("scanner");
    expect(p.sent).toBeGreaterThan(100);
    expect(p.decodedFrames).toBeLessThan(p.frames);
    expect(p.received + p.lost).toBe(p.expectedPerReader * p.readers);
    expect(p.latency.count).toBeLessThan(p.received);
    expect(Number.isFinite(p.latency.p99Ms) && p.latency.p99Ms > 0).toBe(true);
    expect(p.lost).toBe(0);
    expect(p.processes.filter((u) => u.role.startsWith("canvas-"))).toHaveLength(2);
  });

  it("knee under both methods: outsider bisects, scanner climbs a ladder", async () => {
    const common = ["knee", "--target", "ours", "--clients", "4", "--start-rate", "20", "--max-rate", "60", "--step-seconds", "1", "--p99-limit-ms", "600000", "--max-send-lag-ms", "600000"];
    const outsider = await bench([...common, "--method", "outsider", "--factor", "2"]);
    expect(outsider.phases.map((p) => p.targetPixelsPerSecond)).toEqual([20, 40]);
    expect(outsider.phases.every((p) => p.decodedFrames === p.frames)).toBe(true);
    const scanner = await bench([...common, "--method", "scanner"]);
    expect(scanner.phases.map((p) => p.targetPixelsPerSecond)).toEqual([20, 30, 45]);
    expect(scanner.headline.kneePixelsPerSecond).toBeGreaterThan(0);
  });

  it("join pre-paints, joins every client to a painted viewport through the balancer, counts bytes and peak RSS, and checks tile isolation", async () => {
    const r = await bench(["join", "--clients", "4", "--width", "600", "--height", "300", "--resident", "2", "--isolation-batches", "3"]);
    expect(r.headline.joined).toBe(4);
    expect(r.headline.failed).toBe(0);
    expect(r.headline.paintedP50Ms).toBeGreaterThan(0);
    expect(r.headline.residentJoinsMs).toMatch(/^[\d.]+, [\d.]+$/);
    // A 160x100 view of a painted canvas spans 1 to 4 tiles, each a PNG bigger than a uniform tile's 103 bytes.
    expect(r.headline.tilesPerJoinMax).toBeGreaterThanOrEqual(1);
    expect(r.headline.meanTilePngBytes).toBeGreaterThan(103);
    expect(r.headline.bytesPerJoinMaxKiB).toBeGreaterThan(0);
    for (const role of ["redis", "canvas-0", "gateway-0", "gateway-1"]) expect(r.headline[`peakRssMiB_${role}`], role).toBeGreaterThan(0);
    expect(r.headline.isolationBatchFramesSeen).toBe(0);
    expect(r.headline.isolationControlReceived).toBe(true);
  });

  it("big-canvas creates the canvas with CreateCanvas and reports Redis memory, keys and canvas RSS per painted-tile step", async () => {
    const r = await bench(["big-canvas", "--side", "2048", "--steps", "1,4", "--pixels-per-tile", "8"]);
    expect(r.headline.paintedTilesLast).toBe(4);
    // The registry hash plus one key per painted tile (and the canvas's own few keys), never one per pixel or per unpainted tile.
    expect(r.headline.redisKeysLast).toBeLessThan(20);
    expect(r.headline.redisUsedMiBLast).toBeGreaterThan(r.headline.redisUsedMiBEmpty as number);
    // One line per measurement: right after CreateCanvas (0 painted tiles), then after each step.
    expect(r.notes.filter((n) => /painted tile\(s\): Redis used_memory/.test(n)).map((n) => Number.parseInt(n, 10))).toEqual([0, 1, 4]);
  });

  it("compare runs legacy then ours and writes medians, ratios and an overlaid chart", async () => {
    const before = new Set(readdirSync(out));
    // --allow-dirty: the tests run on uncommitted trees too; compare refuses a dirty tree without it.
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "compare", "seed-stress", "--rounds", "1", "--allow-dirty", "--duration", "2", "--clients", "4", "--rate", "40", "--churn", "0", "--warmup-seconds", "0", "--out", out], { cwd: ROOT, timeout: 90_000 });
    const added = readdirSync(out).filter((f) => !before.has(f));
    const json = added.find((f) => f.startsWith("compare-seed-stress-outsider") && f.endsWith(".json"))!;
    expect(added).toContain(json.replace(/json$/, "md"));
    expect(added).toContain(json.replace(/json$/, "svg"));
    const c = JSON.parse(readFileSync(join(out, json), "utf8")) as CompareResult;
    expect(c.runs.map((x) => x.target)).toEqual(["legacy", "ours"]);
    expect(c.medians.map((m) => m.figure)).toEqual(["p50Ms", "p99Ms", "p999Ms", "pixelsLost"]);
    for (const m of c.medians) {
      expect(Number.isFinite(m.ours) && Number.isFinite(m.legacy)).toBe(true);
      expect(m.oursSpread).toEqual([m.ours, m.ours]);
    }
  });

  it("frame-cost times building one flush in all four designs and counts their frames", async () => {
    const before = new Set(readdirSync(out));
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "frame-cost", "--sockets", "20", "--pixels", "5", "--batches", "3", "--rounds", "20", "--out", out], { cwd: ROOT, timeout: 60_000 });
    const json = readdirSync(out).find((f) => !before.has(f) && f.startsWith("frame-cost-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { rows: { design: string; frames: number; micros: number }[] };
    expect(r.rows.map((x) => x.frames)).toEqual([3 * 5 * 20, 3 * 20, 3 * 20, 20]);
    for (const row of r.rows) expect(row.micros, row.design).toBeGreaterThan(0);
    expect(readFileSync(join(out, json.replace(/json$/, "md")), "utf8")).toContain("| design | frames to write |");
  });

  it("decode-cost decodes our live frames (author runs, Pixel messages, PixelColumns) and the legacy message, and turns the cost into cores at the goal rate", async () => {
    const before = new Set(readdirSync(out));
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "decode-cost", "--batches", "2", "--pixels", "3", "--samples", "1", "--readers", "10", "--goal-rate", "100", "--out", out], { cwd: ROOT, timeout: 60_000 });
    const json = readdirSync(out).find((f) => !before.has(f) && f.startsWith("decode-cost-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { rows: { design: string; bytesPerPixel: number; nsPerPixel: number }[]; goal: { deliveriesPerSecond: number; cores: { cores: number }[] } };
    expect(r.rows.map((x) => x.design)).toEqual([
      expect.stringContaining("legacy"),
      expect.stringContaining("2 batch(es) × 3 px, Pixel messages and an author run per pixel"),
      expect.stringContaining("2 batch(es) × 3 px, Pixel messages, no authors (protocol 3)"),
      expect.stringContaining("2 batch(es) × 3 px, PixelColumns, no authors (protocol 4)"),
    ]);
    // The legacy message as the legacy gateway broadcasts it; an author run per pixel makes our frame bigger than without.
    expect(r.rows[0]!.bytesPerPixel).toBe(JSON.stringify({ type: "pixel", x: 123, y: 45, color: "#1a2b3c", user: "gw0-117" }).length);
    expect(r.rows[1]!.bytesPerPixel).toBeGreaterThan(r.rows[2]!.bytesPerPixel);
    for (const row of r.rows) expect(row.nsPerPixel, row.design).toBeGreaterThan(0);
    expect(r.goal.deliveriesPerSecond).toBe(1000);
    r.rows.forEach((row, i) => expect(r.goal.cores[i]!.cores).toBeCloseTo((1000 * row.nsPerPixel) / 1e9, 12));
  });

  it("timelapse paints a history, has Chromium play the web app's timelapse at each speed and reports frames", async () => {
    const before = new Set(readdirSync(out));
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "timelapse", "--placements", "3000", "--batch-pixels", "30", "--width", "60", "--height", "40", "--seconds", "1", "--speeds", "1,1000", "--out", out], { cwd: ROOT, timeout: 180_000 });
    const json = readdirSync(out).find((f) => !before.has(f) && f.startsWith("timelapse-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { lastSeq: string; rows: { speed: number; frames: number; medianFps: number; dropped: number }[] };
    expect(Number(r.lastSeq)).toBeGreaterThanOrEqual(100);
    expect(r.rows.map((x) => x.speed)).toEqual([1, 1000]);
    for (const row of r.rows) {
      expect(row.frames, `${row.speed}x`).toBeGreaterThan(0);
      expect(row.medianFps, `${row.speed}x`).toBeGreaterThan(0);
      expect(row.dropped, `${row.speed}x`).toBeGreaterThanOrEqual(0);
    }
    expect(readFileSync(join(out, json.replace(/json$/, "md")), "utf8")).toContain("| speed | frames | median fps |");
  }, 200_000);

  it("rpc drives our canvas service and the grpc-js peer with h2load and connect-node, verified answers", async () => {
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "rpc", "--seconds", "1", "--warmup-seconds", "0", "--sizes", "10", "--h2load-clients", "1", "--h2load-streams", "4", "--in-flight", "4", "--protocols", "connect,grpc,grpc-web", "--out", out], { cwd: ROOT, timeout: 120_000 });
    const json = readdirSync(out).find((f) => f.startsWith("rpc-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as RpcResult;
    // ours: 3 protocols x 2 unary calls x 2 tools + WritePixels (connect-node) on Connect and gRPC;
    // grpc-js: gRPC x 2 unary calls x 2 tools + WritePixels.
    expect(r.rows).toHaveLength(19);
    for (const row of r.rows) {
      expect(row.failures, `${row.server} ${row.protocol} ${row.call} ${row.tool}`).toBe(0);
      expect(Number.isFinite(row.callsPerSecond)).toBe(true);
    }
    expect(r.ratios.map((x) => `${x.call}/${x.tool}`).sort()).toEqual(["GetCanvas/connect-node", "GetCanvas/h2load", "SetPixels x10/connect-node", "SetPixels x10/h2load", "WritePixels x10/connect-node"]);
    expect(readFileSync(join(out, json.replace(/json$/, "md")), "utf8")).toContain("Ours / @grpc/grpc-js");
  }, 120_000);

  it("shards drives the same multi-canvas write load on a 1-shard and a 3-shard Redis Cluster, alternating, and reports the ratio", async () => {
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "shards", "--rounds", "2", "--duration-ms", "500", "--canvases-per-shard", "2", "--concurrency", "2", "--workers", "1", "--pixels-per-batch", "20", "--out", out], { cwd: ROOT, timeout: 120_000 });
    const json = readdirSync(out).find((f) => f.startsWith("shards-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { rounds: { shards: number; pixelsPerSecond: number; batches: number; errors: number }[]; medians: Record<string, number>; ratio: number };
    // Two rounds, each setup once per round, the order swapped in the second.
    expect(r.rounds.map((x) => x.shards)).toEqual([1, 3, 3, 1]);
    for (const round of r.rounds) {
      expect(round.batches).toBeGreaterThan(0);
      expect(round.errors).toBe(0);
    }
    expect(r.ratio).toBeCloseTo(r.medians["3"]! / r.medians["1"]!, 1);
    expect(readFileSync(join(out, json.replace(/json$/, "md")), "utf8")).toContain("| round | shards | pixels/s | batches | errors |");
  }, 120_000);

  it("archiver writes through the store, stops the database mid-run, and ends with every seq archived once", async () => {
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "archiver", "--seconds", "4", "--rate", "2000", "--batch-pixels", "100", "--outage-seconds", "1", "--outage-at", "1", "--width", "64", "--height", "64", "--out", out], { cwd: ROOT, timeout: 180_000 });
    const json = readdirSync(out).find((f) => f.startsWith("archiver-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { headline: { complete: boolean; catchUpSeconds: number | null }; verdict: { batches: number; gaps: number; duplicatePlacements: number } };
    expect(r.headline.complete).toBe(true);
    expect(r.headline.catchUpSeconds).not.toBeNull();
    expect([r.verdict.gaps, r.verdict.duplicatePlacements]).toEqual([0, 0]);
    expect(r.verdict.batches).toBeGreaterThan(0);
  }, 200_000);

  it("lookup fills a placement log with generate_series and times random lookups", async () => {
    await run(process.execPath, [join(ROOT, "dist/bench/main.js"), "lookup", "--placements", "20000", "--lookups", "50", "--width", "64", "--height", "64", "--users", "10", "--out", out], { cwd: ROOT, timeout: 180_000 });
    const json = readdirSync(out).find((f) => f.startsWith("lookup-") && f.endsWith(".json"))!;
    const r = JSON.parse(readFileSync(join(out, json), "utf8")) as { latency: { count: number; p99Ms: number }; logBytes: number; placementsFound: number };
    expect(r.latency.count).toBe(50);
    // 20,000 placements on 4,096 pixels: every pixel has some, and each lookup returns up to 10.
    expect(r.placementsFound).toBeGreaterThan(50);
    expect(r.logBytes).toBeGreaterThan(0);
  }, 200_000);
});
