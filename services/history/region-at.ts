import { LogIncompleteError, type BatchPage, type RegionQuery } from "./placement-log.js";
import { num, type SqlRunner } from "./sql-runner.js";

/** Pixels per page read while replaying. */
const REPLAY_PAGE_PIXELS = 100_000;

/** True when the log holds every seq in (after, upTo] of the epoch. */
async function holds(db: SqlRunner, canvas: number, epoch: number, after: number, upTo: number): Promise<boolean> {
  if (upTo <= after) return true;
  const [row] = await db.query<{ n: unknown }>(
    "SELECT count(*) AS n FROM history_batches WHERE canvas = $1 AND epoch = $2 AND seq > $3 AND seq <= $4",
    [canvas, epoch, after, upTo],
  );
  return num(row?.n) === upTo - after;
}

/**
 * PlacementLog.regionAt: the rectangle's colours right after atSeq. Backwards from `current` when
 * given and shorter: the first write of each pixel after atSeq carries the colour it had at atSeq
 * (its previous colour), and pixels not written since keep their current colour. Otherwise forwards
 * from the background through every batch up to atSeq.
 */
export async function regionAt(
  db: SqlRunner,
  canvas: number,
  q: RegionQuery,
  page: (afterSeq: number, maxPixels: number) => Promise<BatchPage>,
): Promise<Uint8Array> {
  const { rect } = q;
  const current = q.current;
  if (current !== undefined && q.atSeq > current.seq) throw new RangeError(`seq ${q.atSeq} is ahead of the canvas (seq ${current.seq})`);
  const canGoBack = () => (current === undefined ? Promise.resolve(false) : holds(db, canvas, q.epoch, q.atSeq, current.seq));
  const canGoForward = () => holds(db, canvas, q.epoch, 0, q.atSeq);
  const preferBack = current !== undefined && current.seq - q.atSeq <= q.atSeq;
  let backwards: boolean;
  let forwards = false;
  if (preferBack && (await canGoBack())) backwards = true;
  else {
    forwards = await canGoForward();
    backwards = !forwards && !preferBack && (await canGoBack());
  }
  if (!backwards && !forwards) {
    const alternative = current === undefined ? "" : ` or ${q.atSeq + 1}..${current.seq}`;
    throw new LogIncompleteError(`the placement log of ${q.canvasId} (epoch ${q.epoch}) does not hold every seq of 1..${q.atSeq}${alternative}: not archived yet, or lost (a recorded gap)`);
  }
  const out = new Uint8Array(rect.width * rect.height * 3);
  const inRect = (x: number, y: number) => x >= rect.x && y >= rect.y && x < rect.x + rect.width && y < rect.y + rect.height;
  const put = (x: number, y: number, color: number) => {
    const o = ((y - rect.y) * rect.width + (x - rect.x)) * 3;
    out[o] = (color >>> 16) & 0xff;
    out[o + 1] = (color >>> 8) & 0xff;
    out[o + 2] = color & 0xff;
  };
  let after: number;
  let upTo: number;
  let apply: (x: number, y: number, color: number, previous: number) => void;
  if (backwards && current !== undefined) {
    out.set(current.pixels);
    const restored = new Uint8Array(rect.width * rect.height);
    after = q.atSeq;
    upTo = current.seq;
    apply = (x, y, _color, previous) => {
      const i = (y - rect.y) * rect.width + (x - rect.x);
      if (restored[i] === 0) {
        restored[i] = 1;
        put(x, y, previous);
      }
    };
  } else {
    for (let y = rect.y; y < rect.y + rect.height; y++) for (let x = rect.x; x < rect.x + rect.width; x++) put(x, y, q.background);
    after = 0;
    upTo = q.atSeq;
    apply = (x, y, color) => put(x, y, color);
  }
  while (after < upTo) {
    const { batches } = await page(after, REPLAY_PAGE_PIXELS);
    if (batches.length === 0) break;
    for (const b of batches) {
      if (b.seq > upTo) return out;
      for (const p of b.pixels) if (inRect(p.x, p.y)) apply(p.x, p.y, p.color, p.previousColor);
      after = b.seq;
    }
  }
  return out;
}
