import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PixelBatchSchema, type PixelBatch } from "../../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema } from "../../gen/pixel/v1/realtime_pb.js";
import { encodeBatchBody } from "../../services/canvas/pixel-batch-codec.js";
import { batchFrame, coalescedFrame, columnsBatchFrame } from "../../protocol/server-frames.js";
import { parseFlags } from "../flags.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = { batches: "1,8", pixels: "1,8", readers: 200, "goal-rate": 10_000, samples: 7, out: "bench/results" };

/** Median over `samples` runs of `fn` (which handles `pixels` pixels), in nanoseconds per pixel. */
function nanosPerPixel(samples: number, pixels: number, fn: () => void): number {
  const rounds = Math.max(1, Math.round(200_000 / pixels));
  for (let i = 0; i < rounds / 4; i++) fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    out.push(((performance.now() - t) * 1e6) / rounds / pixels);
  }
  return out.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
}

/** How a live frame carries its pixels: with an author run per pixel (before 5e3e8c2), `pixels` (protocol 3), `columns` (protocol 4). */
type Form = "authors" | "pixels" | "columns";

const FORMS: { form: Form; label: string }[] = [
  { form: "authors", label: "Pixel messages and an author run per pixel (before 5e3e8c2)" },
  { form: "pixels", label: "Pixel messages, no authors (protocol 3)" },
  { form: "columns", label: "PixelColumns, no authors (protocol 4)" },
];

/** One live frame as the gateway sends it: `batches` batches of `pixels` pixels in `form`. */
function liveFrame(batches: number, pixels: number, form: Form): Buffer {
  const authors = form === "authors";
  const frames = Array.from({ length: batches }, (_, b) => {
    const px = Array.from({ length: pixels }, (_, i) => ({ x: (b * pixels + i) % 512, y: 7, color: ((b * pixels + i) * 2654435761) & 0xffffff }));
    // One pixel per Place from rotating writers: every pixel is its own run (a 24-character session id and a name).
    const runs = authors ? px.map((_, i) => ({ userId: `u_${String(b * pixels + i).padStart(22, "k")}`, name: `player-${b * pixels + i}`, pixelCount: 1 })) : [];
    const head = toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: BigInt(1_000_000 + b), epoch: 1_764_670_000_123n }));
    const frame = batchFrame(Buffer.concat([head, encodeBatchBody("default", px, "", Date.now(), runs)]));
    return form === "columns" ? columnsBatchFrame(frame) : frame;
  });
  return coalescedFrame(frames);
}

/**
 * What a reader written the outsider's way pays to decode what it receives, per delivered pixel:
 * our live frames through the generated code (`fromBinary(ServerFrameSchema)`, every pixel
 * visited), with per-pixel author runs, as Pixel messages and as PixelColumns, against the legacy design's one JSON message per
 * pixel through JSON.parse. Decoding only: the WebSocket's own per-message cost comes on top (one
 * message per pixel for legacy, one per frame for ours). The last table turns the figures into
 * the CPU the load generator alone needs at `--goal-rate` px/s to `--readers` readers, which is
 * what bounds a knee measured with such a client on the same machine.
 */
export async function runDecodeCost(argv: string[], log: (m: string) => void): Promise<void> {
  const f = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["micro", "decode-cost", ...argv]);
  const list = (s: string) => s.split(",").map(Number);
  let sink = 0;
  const rows: { design: string; bytesPerPixel: number; nsPerPixel: number }[] = [];
  const legacy = Buffer.from(JSON.stringify({ type: "pixel", x: 123, y: 45, color: "#1a2b3c", user: "gw0-117" }));
  rows.push({
    design: "legacy: one JSON message per pixel, JSON.parse",
    bytesPerPixel: legacy.length,
    nsPerPixel: nanosPerPixel(f.samples, 1, () => {
      const m = JSON.parse(legacy.toString("utf8")) as { color: string };
      sink += Number.parseInt(m.color.slice(1), 16);
    }),
  });
  for (const batches of list(f.batches)) {
    for (const pixels of list(f.pixels)) {
      for (const { form, label } of FORMS) {
        const frame = liveFrame(batches, pixels, form);
        const visit = (b: PixelBatch) => {
          if (b.columns) for (const color of b.columns.color) sink += color;
          else for (const p of b.pixels) sink += p.color;
        };
        rows.push({
          design: `ours: a frame of ${batches} batch(es) × ${pixels} px, ${label}`,
          bytesPerPixel: frame.length / (batches * pixels),
          nsPerPixel: nanosPerPixel(f.samples, batches * pixels, () => {
            const decoded = fromBinary(ServerFrameSchema, frame).frame;
            if (decoded.case === "batches") for (const b of decoded.value.batches) visit(b);
            else if (decoded.case === "batch") visit(decoded.value);
          }),
        });
      }
    }
  }
  if (sink === 0) throw new Error("nothing was decoded");
  const deliveries = f.readers * f["goal-rate"];
  const result = { scenario: "decode-cost", run, parameters: f, rows, goal: { deliveriesPerSecond: deliveries, cores: rows.map((r) => ({ design: r.design, cores: (deliveries * r.nsPerPixel) / 1e9 })) } };
  const lines = [
    "# decode-cost — what a reader pays per delivered pixel", "",
    `- command: \`${run.command}\``,
    `- started: ${run.startedAt}; git ${run.git.commit.slice(0, 12)}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}; ${run.machine.cpuModel}`,
    `- decoding only (the WebSocket's per-message cost comes on top); median of ${f.samples} samples`, "",
    `| design | bytes per pixel | ns per pixel | cores to decode ${f["goal-rate"].toLocaleString("en-US")} px/s at ${f.readers} readers |`, "|---|---|---|---|",
    ...rows.map((r) => `| ${r.design} | ${r.bytesPerPixel.toFixed(1)} | ${r.nsPerPixel.toFixed(0)} | ${((deliveries * r.nsPerPixel) / 1e9).toFixed(2)} |`), "",
  ];
  mkdirSync(f.out, { recursive: true });
  const base = join(f.out, `decode-cost-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, lines.join("\n"));
  for (const r of rows) log(`${r.design}: ${r.bytesPerPixel.toFixed(1)} B/px, ${r.nsPerPixel.toFixed(0)} ns/px`);
  log(`wrote ${base}.json and ${base}.md`);
}
