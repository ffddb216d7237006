import { expect } from "vitest";
import { toLogBatch } from "../archiver.js";
import type { HistorySource } from "../history-source.js";
import type { LogBatch, PlacementLog } from "../placement-log.js";

/** Every batch the log holds for one epoch of a canvas, in seq order. */
export async function allLogged(log: PlacementLog, canvasId: string, epoch: number): Promise<LogBatch[]> {
  const out: LogBatch[] = [];
  for (;;) {
    const page = await log.batches(canvasId, epoch, out.length === 0 ? 0 : out[out.length - 1]!.seq, 1_000_000);
    if (page.batches.length === 0) return out;
    out.push(...page.batches);
  }
}

/**
 * Asserts the log holds exactly the store's retained history of a canvas's current epoch, seq by
 * seq (pixels, previous colours, authors, kinds, times), with no gap recorded and nothing else.
 */
export async function expectLogEqualsHistory(log: PlacementLog, source: HistorySource, canvasId: string): Promise<number> {
  const slice = await source.read(canvasId, 0, 1_000_000);
  expect(slice.firstRetainedSeq).toBe(1);
  const expected = slice.entries.map((e) => toLogBatch(canvasId, e)!);
  const logged = await allLogged(log, canvasId, slice.epoch);
  expect(logged.map((b) => b.seq)).toEqual(expected.map((b) => b.seq));
  expect(logged).toEqual(expected);
  const page = await log.batches(canvasId, slice.epoch, 0, 1);
  expect([page.gaps, page.archivedSeq]).toEqual([[], slice.seq]);
  return expected.length;
}

/** A deterministic batch of `count` pixels on a width x height canvas, with its placement runs of up to three users. */
export function randomBatch(random: () => number, width: number, height: number, count: number): { pixels: { x: number; y: number; color: number }[]; runs: { pixelCount: number; userKey: string; ipKey: string; author: { userId: string; name: string } }[] } {
  const pixels = Array.from({ length: count }, () => ({ x: Math.floor(random() * width), y: Math.floor(random() * height), color: Math.floor(random() * 0x1000000) }));
  const runs: { pixelCount: number; userKey: string; ipKey: string; author: { userId: string; name: string } }[] = [];
  let left = count;
  while (left > 0) {
    const n = Math.max(1, Math.min(left, Math.ceil(random() * count)));
    const user = `u${Math.floor(random() * 3)}`;
    runs.push({ pixelCount: n, userKey: user, ipKey: "", author: { userId: user, name: `name of ${user}` } });
    left -= n;
  }
  return { pixels, runs };
}
