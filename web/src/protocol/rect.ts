/** A rectangle of canvas pixels: columns x..x+width-1, rows y..y+height-1. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Accumulates points into their bounding rectangle; empty until the first point. */
export class DirtyRegion {
  private minX = Infinity;
  private minY = Infinity;
  private maxX = -Infinity;
  private maxY = -Infinity;

  /** Adds one pixel. */
  add(x: number, y: number): void {
    if (x < this.minX) this.minX = x;
    if (y < this.minY) this.minY = y;
    if (x > this.maxX) this.maxX = x;
    if (y > this.maxY) this.maxY = y;
  }

  /** The bounding rectangle, or undefined when nothing was added. */
  rect(): Rect | undefined {
    if (this.maxX < this.minX) return undefined;
    return { x: this.minX, y: this.minY, width: this.maxX - this.minX + 1, height: this.maxY - this.minY + 1 };
  }
}
