/** A pixel coordinate. */
export interface Point {
  x: number;
  y: number;
}

/**
 * Every pixel on the straight line from `from` to `to`, both ends included (Bresenham), so a fast
 * drag whose pointer samples are several pixels apart still leaves a connected stroke.
 */
export function linePixels(from: Point, to: Point): Point[] {
  const points: Point[] = [];
  let x = from.x;
  let y = from.y;
  const dx = Math.abs(to.x - x);
  const dy = -Math.abs(to.y - y);
  const sx = x < to.x ? 1 : -1;
  const sy = y < to.y ? 1 : -1;
  let err = dx + dy;
  for (;;) {
    points.push({ x, y });
    if (x === to.x && y === to.y) return points;
    const e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y += sy;
    }
  }
}
