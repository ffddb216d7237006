import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import type { Browser, Page } from "playwright-core";
import { CanvasService, PixelSchema, type Pixel } from "../../gen/pixel/v1/canvas_pb.js";
import { HistoryService } from "../../gen/pixel/v1/history_pb.js";
import { MAX_PIXELS_PER_CALL } from "../../protocol/limits.js";
import { launchChromium } from "../../tools/process/chromium.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { mulberry32 } from "../../tools/prng.js";
import { parseFlags, UsageError } from "../flags.js";
import { collectRunInfo } from "../run-info.js";
import { frameStats, type FrameStats } from "./frame-stats.js";

const DEFAULTS = { placements: 1_000_000, width: 1000, height: 1000, "batch-pixels": 100, seconds: 10, speeds: "1,10,100,1000", out: "bench/results" };
/** SetPixels calls in flight while painting the history. */
const CALLS_IN_FLIGHT = 8;
/** How long the log may take to archive everything painted, and the page to load it. */
const SETTLE_TIMEOUT_MS = 15 * 60_000;

/** One speed's result. */
interface SpeedRow extends FrameStats {
  speed: number;
}

/** Paints `total` random pixels in SetPixels calls of `perCall`, a few in flight; returns the last seq. */
async function paintHistory(grpcUrl: string, total: number, perCall: number, width: number, height: number, log: (m: string) => void): Promise<bigint> {
  const canvas = createClient(CanvasService, createGrpcTransport({ baseUrl: grpcUrl }));
  const random = mulberry32(12);
  const inFlight = new Set<Promise<void>>();
  let last = 0n;
  let written = 0;
  for (let sent = 0; sent < total; sent += perCall) {
    const pixels: Pixel[] = [];
    for (let i = 0; i < Math.min(perCall, total - sent); i++) {
      pixels.push(create(PixelSchema, { x: Math.floor(random() * width), y: Math.floor(random() * height), color: Math.floor(random() * 0x1000000) }));
    }
    const call = canvas.setPixels({ pixels, author: "timelapse-bench" }).then((r) => {
      if (r.seq > last) last = r.seq;
      written += pixels.length;
      inFlight.delete(call);
    });
    inFlight.add(call);
    if (inFlight.size >= CALLS_IN_FLIGHT) await Promise.race(inFlight);
    if (sent % (perCall * 1000) === 0 && sent > 0) log(`painted ${written.toLocaleString("en")} of ${total.toLocaleString("en")}`);
  }
  await Promise.all(inFlight);
  return last;
}

/**
 * Plays the open timelapse from its start at `speed`× for `ms` and returns the timestamps of the
 * page's requestAnimationFrame callbacks; a timelapse that ends is started again (from its start).
 */
async function playFor(page: Page, speed: number, ms: number): Promise<number[]> {
  await page.evaluate(`(() => { const el = document.querySelector('[data-testid="timelapse-scrub"]'); el.value = "0"; el.dispatchEvent(new Event("input", { bubbles: true })); })()`);
  await page.selectOption('[data-testid="timelapse-speed"]', String(speed));
  const stamps: unknown = await page.evaluate(
    `new Promise((resolve) => {
      const play = () => document.querySelector('[data-testid="timelapse-play"]');
      const stamps = []; let start;
      const frame = (now) => {
        start ??= now; stamps.push(now);
        if (play().textContent === "Play") play().click();
        if (now - start < ${ms}) requestAnimationFrame(frame);
        else { if (play().textContent === "Pause") play().click(); resolve(stamps); }
      };
      requestAnimationFrame(frame);
    })`,
  );
  if (!Array.isArray(stamps) || !stamps.every((s) => typeof s === "number")) throw new Error("the page returned no frame times");
  return stamps as number[];
}

/**
 * `npm run bench -- timelapse`: a canvas with --placements placements (random pixels, SetPixels
 * calls of --batch-pixels) under `npm start`'s one-process system, archived into its embedded log;
 * Chromium opens the web app's timelapse and plays it from the start at each of --speeds for
 * --seconds, and reports the frame rate from requestAnimationFrame intervals (median, 1% low)
 * and the refreshes without a frame.
 */
export async function runTimelapseBench(argv: string[], log: (m: string) => void): Promise<void> {
  const f = parseFlags(argv, DEFAULTS);
  const speeds = f.speeds.split(",").map(Number);
  if (speeds.some((s) => !(s > 0))) throw new UsageError(`--speeds must be positive numbers separated by commas, got "${f.speeds}"`);
  if (!(f["batch-pixels"] >= 1 && f["batch-pixels"] <= MAX_PIXELS_PER_CALL)) throw new UsageError(`--batch-pixels must be 1..${MAX_PIXELS_PER_CALL}`);
  if (!(f.placements >= 1 && f.seconds > 0)) throw new UsageError("--placements and --seconds must be positive");
  const run = await collectRunInfo(["timelapse", ...argv]);
  const dataDir = mkdtempSync(join(tmpdir(), "pixel-timelapse-"));
  const env = {
    WEB_PORT: String(await freePort()),
    CANVAS_GRPC_PORT: String(await freePort()),
    CANVAS_HTTP_PORT: String(await freePort()),
    GATEWAY_PORT: String(await freePort()),
    DATA_DIR: dataDir,
    CANVAS_WIDTH: String(f.width),
    CANVAS_HEIGHT: String(f.height),
    // The history is painted as fast as the service stores it, not at a person's pace.
    PIXELS_PER_SECOND: "1000000",
    PIXEL_BURST: "1000000",
  };
  const url = `http://127.0.0.1:${env.WEB_PORT}/`;
  let service: ServiceProcess | undefined;
  let browser: Browser | undefined;
  try {
    service = await startService("timelapse-bench", "services/local/main.js", env, `${url}readyz`, 60_000);
    log(`painting ${f.placements} placements in calls of ${f["batch-pixels"]} on a ${f.width}x${f.height} canvas`);
    const lastSeq = await paintHistory(`http://127.0.0.1:${env.CANVAS_GRPC_PORT}`, f.placements, f["batch-pixels"], f.width, f.height, log);
    const history = createClient(HistoryService, createConnectTransport({ baseUrl: `${url}api`, httpVersion: "1.1" }));
    await waitFor(`the log archives seq ${lastSeq}`, async () => (await history.getPlacements({ maxPixels: 1 })).archivedSeq >= lastSeq, SETTLE_TIMEOUT_MS, 500);

    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1100, height: 760 } });
    await page.goto(url);
    await page.waitForSelector('[data-testid="connection-status"][data-state="live"]', { timeout: 30_000 });
    const loadStart = Date.now();
    await page.click('[data-testid="timelapse-toggle"]');
    await page.waitForSelector('[data-testid="timelapse-bar"][data-state="ready"]', { timeout: SETTLE_TIMEOUT_MS });
    const loadMs = Date.now() - loadStart;
    log(`the page loaded the timelapse in ${loadMs} ms`);

    const rows: SpeedRow[] = [];
    for (const speed of speeds) {
      const stats = frameStats(await playFor(page, speed, f.seconds * 1000));
      rows.push({ speed, ...stats });
      log(`${speed}x: ${stats.frames} frames, median ${stats.medianFps.toFixed(1)} fps, 1% low ${stats.p1LowFps.toFixed(1)} fps, ${stats.dropped} dropped`);
    }
    const result = { scenario: "timelapse", run, parameters: f, lastSeq: String(lastSeq), loadMs, rows };
    const lines = [
      "# timelapse — playing the web app's timelapse in Chromium", "",
      `- command: \`${run.command}\``,
      `- started: ${run.startedAt}; git ${run.git.commit.slice(0, 12)}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}`,
      `- ${f.placements.toLocaleString("en-US")} placements in ${lastSeq} batches on a ${f.width}×${f.height} canvas; loaded by the page in ${loadMs} ms; ${f.seconds} s per speed from the start (restarting at the end)`, "",
      "| speed | frames | median fps | 1% low fps | dropped frames | worst frame ms |", "|---|---|---|---|---|---|",
      ...rows.map((r) => `| ${r.speed}× | ${r.frames} | ${r.medianFps.toFixed(1)} | ${r.p1LowFps.toFixed(1)} | ${r.dropped} | ${r.worstMs.toFixed(1)} |`), "",
    ];
    mkdirSync(f.out, { recursive: true });
    const base = join(f.out, `timelapse-${run.startedAt.replace(/[:.]/g, "-")}`);
    writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
    writeFileSync(`${base}.md`, lines.join("\n"));
    log(`wrote ${base}.json and ${base}.md`);
  } finally {
    await browser?.close();
    await service?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
