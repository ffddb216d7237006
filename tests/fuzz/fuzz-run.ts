import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { tileGridSize } from "../../protocol/tile-grid.js";
import { ExpectedCanvas, type PixelMismatch } from "./expected-canvas.js";
import { CHECKS, describeOutcome, FuzzRecord, type Check } from "./fuzz-record.js";
import { describeExpectation } from "./answer-text.js";
import { FuzzSocket, type SocketSinks } from "./fuzz-socket.js";
import { API_CANVAS, DEFAULT_CANVAS, startFuzzSystem, WS_CANVAS, type FuzzSystem } from "./fuzz-system.js";
import { runHttpFuzz } from "./http-fuzz.js";
import { runPingFlood, type FloodOptions } from "./ping-flood.js";
import { RssWatch } from "./process-memory.js";
import { describeInput, generateWsInput, inputOfColour, MAX_WS_INPUTS, type WsInput, type WsLayout } from "./ws-input.js";
import { runWsFuzz } from "./ws-fuzz-phase.js";
import { expectAnswer, type CanvasRules } from "./ws-oracle.js";
import { runViolations } from "./ws-violations.js";

/** Everything a fuzz run is told. */
export interface FuzzOptions {
  /** Name of the processes' log files (test-results/logs/<name>-*.log). */
  name: string;
  seed: number;
  /** /ws inputs (random, mutated, boundary, valid), malformed /api requests and h2c requests. */
  wsInputs: number;
  apiInputs: number;
  h2cInputs: number;
  /** Canvas side: big enough that pixels rarely collide. */
  side: number;
  /** Sockets (and HTTP workers) at once, and frames per socket before waiting for answers. */
  concurrency: number;
  burst: number;
  flood: Omit<FloodOptions, "port">;
  /** How far above its idle RSS each process may go, in MiB, in any phase. */
  rssBudgetMiB: { gateway: number; canvas: number };
}

/** What a run found and did. */
export interface FuzzResult {
  options: FuzzOptions;
  failures: Record<Check, string[]>;
  failureCounts: Record<Check, number>;
  sent: Record<string, number>;
  answers: Record<string, number>;
  skipped: Record<string, number>;
  /** Failures by shape, most frequent first. */
  failureShapes: Record<string, number>;
  /** The services' RSS; `fuzzer` is this process at the end (its memory is bounded: counters, one byte per input, one canvas). */
  rssMiB: { idle: Record<string, number>; peakByPhase: Record<string, Record<string, number>>; end: Record<string, number>; fuzzer: number };
  phasesMs: Record<string, number>;
  canvas: { seq: string; highestAck: number; mismatchedPixels: number };
  durationMs: number;
}

const MIB = 1024 * 1024;
const toMiB = (r: Record<string, number>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round((v / MIB) * 10) / 10]));

/**
 * Runs the whole fuzz against fresh processes: random /ws inputs, protocol violations, malformed
 * /api and h2c requests, then a ping flood; after each phase checks that the processes are up and
 * healthy and within their RSS budget; at the end compares the stored canvas with the one the
 * acked valid placements explain. Never throws for what it finds: everything lands in the result.
 */
export async function runFuzz(options: FuzzOptions, progress: (line: string) => void = () => undefined): Promise<FuzzResult> {
  if (options.wsInputs > MAX_WS_INPUTS) throw new Error(`at most ${MAX_WS_INPUTS} /ws inputs per run (each needs its own colour)`);
  const started = Date.now();
  const record = new FuzzRecord();
  const system: FuzzSystem = await startFuzzSystem(options.side, options.name);
  const watch = new RssWatch(system.pids);
  const phasesMs: Record<string, number> = {};
  const peakByPhase: Record<string, Record<string, number>> = {};
  const handMade = new Map<number, WsInput>();
  const layout: WsLayout = { width: options.side, height: options.side };
  const outcomes = new Uint8Array(options.wsInputs + 1024);
  try {
    const initial = await system.canvas.getCanvas({ canvasId: WS_CANVAS });
    const canvas = new ExpectedCanvas(initial.width, initial.height, initial.pixels);
    const sinks: SocketSinks = { record, canvas, outcomes };
    const probe = await FuzzSocket.open(system.ws, sinks, "warm-up");
    const welcome = await probe.hello(WS_CANVAS);
    await probe.close();
    if (!welcome) throw new Error("no Welcome for the warm-up socket");
    const rules: CanvasRules = { width: welcome.width, height: welcome.height, maxPixelsPerPlace: welcome.maxPixelsPerPlace, ...tileGridSize(welcome.width, welcome.height) };
    await new Promise((r) => setTimeout(r, 500));
    const idle = watch.now();

    const phase = async (name: string, run: () => Promise<void>) => {
      const t0 = Date.now();
      watch.start();
      await run();
      const peaks = watch.stop();
      phasesMs[name] = Date.now() - t0;
      peakByPhase[name] = toMiB(peaks);
      for (const problem of await system.health()) record.fail("health", `after phase ${name}: ${problem}`);
      for (const [proc, peak] of Object.entries(peaks)) {
        const budget = options.rssBudgetMiB[proc as keyof FuzzOptions["rssBudgetMiB"]];
        const base = idle[proc] ?? 0;
        if (peak - base > budget * MIB) {
          record.fail("memory", `${proc} RSS peaked at ${(peak / MIB).toFixed(0)} MiB during phase ${name}: ${((peak - base) / MIB).toFixed(0)} MiB above its idle ${(base / MIB).toFixed(0)} MiB (budget ${budget} MiB)`);
        }
      }
      progress(`phase ${name}: ${phasesMs[name]} ms, RSS peak ${JSON.stringify(peakByPhase[name])} MiB`);
    };

    let nextIndex = options.wsInputs;
    await phase("ws-fuzz", () => runWsFuzz({
      seed: options.seed, inputs: options.wsInputs, concurrency: options.concurrency, burst: options.burst, unjoinedShare: 0.1,
      gateway: system.ws, canvasId: WS_CANVAS, layout, rules,
    }, sinks));
    await phase("ws-violations", () => runViolations({ gateway: system.ws, canvasId: WS_CANVAS, layout, rules, sinks, handMade, nextIndex: () => nextIndex++ }));
    // Inputs watch the default canvas (an empty or unknown canvas_id) or API_CANVAS, never WS_CANVAS.
    const pulse = async () => {
      for (const canvasId of [DEFAULT_CANVAS, API_CANVAS]) await system.canvas.setPixels({ canvasId, pixels: [{ x: 0, y: 0, color: 1 }], author: "fuzz-pulse" });
    };
    await phase("api-fuzz", () => runHttpFuzz({ seed: options.seed, target: "api", inputs: options.apiInputs, concurrency: options.concurrency, baseUrl: system.canvasHttpUrl, pulse }, record));
    await phase("h2c-fuzz", () => runHttpFuzz({ seed: options.seed, target: "h2c", inputs: options.h2cInputs, concurrency: options.concurrency, baseUrl: system.canvasGrpcUrl, pulse }, record));
    await phase("ping-flood", () => runPingFlood({ ...options.flood, port: system.gatewayPort }, record));

    const stored = await system.canvas.getCanvas({ canvasId: WS_CANVAS });
    const mismatches = canvas.compare(stored.pixels);
    const describeFrame = (index: number) => describeSource(index, options, layout, rules, handMade, outcomes);
    // Pixels of the violation scenarios and of rejected frames first: those are defects; unacked
    // valid frames of the random phase follow from a close, and are listed after them.
    const described = mismatches.map((m) => describeMismatch(m, options.wsInputs + handMade.size, describeFrame));
    for (const rank of [0, 1, 2, 3]) for (const d of described) if (d.rank === rank) record.fail("canvas", d.text, rank < 2 ? 0 : 1);
    if (Number(stored.seq) > canvas.highestAck) {
      record.fail("canvas", `canvas "${WS_CANVAS}" is at seq ${stored.seq} but the highest Ack was ${canvas.highestAck}: ${Number(stored.seq) - canvas.highestAck} stored batch(es) were never acked`);
    }
    const end = toMiB(watch.now());
    return {
      options,
      failures: Object.fromEntries(CHECKS.map((c) => [c, record.failuresOf(c)])) as Record<Check, string[]>,
      failureCounts: record.failureCounts(),
      sent: Object.fromEntries(record.sent),
      answers: Object.fromEntries([...record.answers].sort()),
      skipped: Object.fromEntries(record.skipped),
      failureShapes: Object.fromEntries([...record.shapes].sort((a, b) => b[1] - a[1])),
      rssMiB: { idle: toMiB(idle), peakByPhase, end, fuzzer: Math.round(process.memoryUsage().rss / MIB) },
      phasesMs,
      canvas: { seq: String(stored.seq), highestAck: canvas.highestAck, mismatchedPixels: mismatches.length },
      durationMs: Date.now() - started,
    };
  } finally {
    await system.stop();
  }
}

const hexColour = (c: number) => `#${c.toString(16).padStart(6, "0")}`;

/** Where a wrong pixel came from: 0 a violation scenario, 1 a rejected frame, 2 a valid unacked frame, 3 unknown. */
interface Source {
  rank: 0 | 1 | 2 | 3;
  text: string;
}

function describeMismatch(m: PixelMismatch, inputs: number, describeFrame: (index: number) => Source): Source {
  const index = inputOfColour(m.actual, inputs);
  const source: Source = index === undefined ? { rank: 3, text: "no fuzz frame (a colour none carries)" } : describeFrame(index);
  const verb = source.rank === 1 ? "changed by" : "painted by";
  return { rank: source.rank, text: `pixel (${m.x},${m.y}) ${verb} ${source.text}: it is ${hexColour(m.actual)} where the acked valid placements leave ${m.allowed.map(hexColour).join(" or ")}` };
}

/** Rebuilds input `index` from the seed (or finds the hand-made one) and says how it was answered. */
function describeSource(index: number, options: FuzzOptions, layout: WsLayout, rules: CanvasRules, handMade: Map<number, WsInput>, outcomes: Uint8Array): Source {
  const made = handMade.get(index);
  const input = made ?? generateWsInput(options.seed, index, layout);
  // Random inputs carry no colour of their own: a match is a coincidence.
  if (input.kind === "random") return { rank: 3, text: "no fuzz frame on purpose (random bytes may carry any colour)" };
  const expected = expectAnswer(input.bytes, input.isBinary, true, rules);
  const rejected = expected.kind !== "ack";
  const answered = describeOutcome(outcomes[index] ?? 0, (c) => ErrorCode[c] ?? String(c));
  const rank = made ? 0 : rejected ? 1 : 2;
  return { rank, text: `${rejected ? "a rejected" : "a valid but unacked"} ${describeInput(input)}; it was ${answered} and must get ${describeExpectation(expected)}` };
}

/** A readable summary of a run. */
export function formatSummary(r: FuzzResult): string {
  const lines = [
    `fuzz seed ${r.options.seed}: ${(r.durationMs / 1000).toFixed(1)} s, phases ${JSON.stringify(r.phasesMs)}`,
    `sent: ${JSON.stringify(r.sent)}`,
    `answers: ${JSON.stringify(r.answers)}`,
    `skipped: ${JSON.stringify(r.skipped)}`,
    `RSS MiB: idle ${JSON.stringify(r.rssMiB.idle)}, peak by phase ${JSON.stringify(r.rssMiB.peakByPhase)}, end ${JSON.stringify(r.rssMiB.end)}, fuzzer ${r.rssMiB.fuzzer}`,
    `canvas: seq ${r.canvas.seq}, highest Ack ${r.canvas.highestAck}, ${r.canvas.mismatchedPixels} pixel(s) differ`,
    `failures: ${JSON.stringify(r.failureCounts)}`,
  ];
  for (const check of CHECKS) for (const f of r.failures[check]) lines.push(`  [${check}] ${f}`);
  return lines.join("\n");
}
