import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PixelBatchSchema } from "../../gen/pixel/v1/canvas_pb.js";
import { ServerFrameSchema } from "../../gen/pixel/v1/realtime_pb.js";
import { encodeBatchBody } from "../../services/canvas/pixel-batch-codec.js";
import { batchFrame, coalescedFrame } from "../../protocol/server-frames.js";
import { parseFlags } from "../flags.js";
import { collectRunInfo } from "../run-info.js";

const DEFAULTS = { sockets: 1000, pixels: 10, batches: 4, rounds: 2000, out: "bench/results" };

/** Median of `samples` timings of `fn`, in microseconds per call of fn. */
function time(rounds: number, fn: () => void): number {
  const samples: number[] = [];
  for (let s = 0; s < 7; s++) {
    const t = performance.now();
    for (let i = 0; i < rounds; i++) fn();
    samples.push(((performance.now() - t) * 1000) / rounds);
  }
  return samples.sort((a, b) => a - b)[3]!;
}

/**
 * CPU the gateway spends building what one flush sends to `sockets` sockets, for three designs:
 * JSON with one message per pixel (the legacy design, one encoding per broadcast), a protobuf
 * ServerFrame encoded per socket, and ours: the published bytes framed once (tag + copy) and
 * `batches` batches coalesced into one frame without decoding. Socket writes are not included:
 * they are the same kernel cost per frame whatever built the frame, so the frame count (pixels ×
 * sockets for JSON, batches × sockets uncoalesced, sockets coalesced) is in the table too.
 */
export async function runFrameCost(argv: string[], log: (m: string) => void): Promise<void> {
  const f = parseFlags(argv, DEFAULTS);
  const run = await collectRunInfo(["micro", "frame-cost", ...argv]);
  const pixels = Array.from({ length: f.pixels }, (_, i) => ({ x: i, y: 7, color: (i * 2654435761) & 0xffffff }));
  const bodies = Array.from({ length: f.batches }, (_, b) => {
    // What Redis publishes: the service's body with seq and epoch prepended by the script.
    const body = encodeBatchBody("default", pixels, "bench", Date.now());
    const head = toBinary(PixelBatchSchema, create(PixelBatchSchema, { seq: BigInt(1000 + b), epoch: 1n }));
    return Buffer.concat([head, body]);
  });
  const decoded = bodies.map((b) => fromBinary(PixelBatchSchema, b));
  const rounds = Math.max(1, Math.round(f.rounds / f.sockets));
  let sink = 0;
  const rows = [
    {
      design: "JSON, one message per pixel (legacy)",
      frames: f.batches * f.pixels * f.sockets,
      // One JSON.stringify per pixel per broadcast; the same string goes to every socket.
      micros: time(rounds * 10, () => {
        for (const batch of decoded) for (const p of batch.pixels) sink += JSON.stringify({ type: "pixel", x: p.x, y: p.y, color: p.color }).length;
      }),
    },
    {
      design: "protobuf ServerFrame encoded per socket",
      frames: f.batches * f.sockets,
      micros: time(rounds, () => {
        for (let s = 0; s < f.sockets; s++) for (const batch of decoded) sink += toBinary(ServerFrameSchema, create(ServerFrameSchema, { frame: { case: "batch", value: batch } })).length;
      }),
    },
    {
      design: "ours: published bytes framed once per batch",
      frames: f.batches * f.sockets,
      micros: time(rounds * 100, () => {
        for (const body of bodies) sink += batchFrame(body).length;
      }),
    },
    {
      design: "ours: framed once, coalesced into one frame per flush",
      frames: f.sockets,
      micros: time(rounds * 100, () => {
        sink += coalescedFrame(bodies.map((b) => batchFrame(b))).length;
      }),
    },
  ];
  if (sink === 0) throw new Error("nothing was encoded");
  const result = { scenario: "frame-cost", run, parameters: f, rows };
  const lines = [
    "# frame-cost — building one fan-out flush", "",
    `- command: \`${run.command}\``,
    `- started: ${run.startedAt}; git ${run.git.commit.slice(0, 12)}${run.git.dirty ? " (dirty)" : ""}; Node ${run.node}`,
    `- one flush: ${f.batches} batches of ${f.pixels} pixels to ${f.sockets} sockets; median of 7 samples`, "",
    "| design | frames to write | µs of CPU to build them |", "|---|---|---|",
    ...rows.map((r) => `| ${r.design} | ${r.frames.toLocaleString("en-US")} | ${r.micros.toFixed(2)} |`), "",
  ];
  mkdirSync(f.out, { recursive: true });
  const base = join(f.out, `frame-cost-${run.startedAt.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.json`, JSON.stringify(result, null, 2) + "\n");
  writeFileSync(`${base}.md`, lines.join("\n"));
  for (const r of rows) log(`${r.design}: ${r.frames} frames, ${r.micros.toFixed(2)} µs`);
  log(`wrote ${base}.json and ${base}.md`);
}
