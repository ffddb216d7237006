import { useEffect, useRef, useState } from "preact/hooks";
import type { CanvasClient } from "../protocol/canvas-client.js";
import type { ConnectionState } from "../protocol/canvas-client-types.js";
import { linePixels, type Point } from "../protocol/line-pixels.js";
import type { Rect } from "../protocol/rect.js";
import { statusText } from "./messages.js";
import type { StrokeSender } from "./stroke-sender.js";

/** Props of PixelCanvas. */
export interface PixelCanvasProps {
  client: CanvasClient;
  sender: StrokeSender;
  color: number;
  state: ConnectionState;
  /** Called once per stroke that starts (or continues) while not live: nothing is drawn. */
  onRefused: () => void;
}

function union(a: Rect, b: Rect): Rect {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/**
 * The drawing surface: a canvas element of exactly width×height pixels, scaled up by CSS with
 * crisp edges, redrawn once per animation frame from the client's dirty regions. Mouse, pen and
 * touch all arrive as pointer events; a drag is interpolated so fast moves leave no holes.
 */
export function PixelCanvas({ client, sender, color, state, onRefused }: PixelCanvasProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState({ width: client.canvas.width, height: client.canvas.height });
  const [hover, setHover] = useState<Point | null>(null);
  const stroke = useRef<{ pointerId: number; last: Point } | null>(null);
  const live = state === "live";

  useEffect(() => {
    let image: ImageData | undefined;
    let pending: Rect | "full" | undefined = "full";
    let frame = 0;
    const draw = (): void => {
      frame = 0;
      const el = canvasRef.current;
      const ctx = el?.getContext("2d");
      const { width, height } = client.canvas;
      if (!el || !ctx || width === 0) return;
      if (!image || image.width !== width || image.height !== height) {
        el.width = width;
        el.height = height;
        image = new ImageData(width, height);
        pending = "full";
        setSize({ width, height });
      }
      if (pending === "full") {
        client.canvas.renderRgba(image.data);
        ctx.putImageData(image, 0, 0);
      } else if (pending) {
        client.canvas.renderRgba(image.data, pending);
        ctx.putImageData(image, 0, 0, pending.x, pending.y, pending.width, pending.height);
      }
      pending = undefined;
      el.dataset.seq = String(client.canvas.seq);
    };
    const off = client.on("canvas", (change) => {
      pending = change.full || pending === "full" ? "full" : pending ? union(pending, change.rect) : change.rect;
      if (!frame) frame = requestAnimationFrame(draw);
    });
    frame = requestAnimationFrame(draw);
    return () => {
      off();
      cancelAnimationFrame(frame);
    };
  }, [client]);

  const toPixel = (e: PointerEvent): Point | null => {
    const el = canvasRef.current;
    const { width, height } = client.canvas;
    if (!el || width === 0) return null;
    const r = el.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * width);
    const y = Math.floor(((e.clientY - r.top) / r.height) * height);
    return { x: Math.min(width - 1, Math.max(0, x)), y: Math.min(height - 1, Math.max(0, y)) };
  };

  const onPointerDown = (e: PointerEvent): void => {
    if (e.button !== 0) return;
    e.preventDefault();
    const p = toPixel(e);
    if (!p) return;
    if (client.state !== "live") {
      onRefused();
      return;
    }
    (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
    stroke.current = { pointerId: e.pointerId, last: p };
    sender.add([p], color);
  };

  const onPointerMove = (e: PointerEvent): void => {
    const p = toPixel(e);
    if (e.pointerType !== "touch") setHover(p);
    const s = stroke.current;
    if (!s || s.pointerId !== e.pointerId || !p) return;
    if (client.state !== "live") {
      stroke.current = null;
      onRefused();
      return;
    }
    // Coalesced events carry the samples the browser merged into this one; using them keeps curves round.
    const samples = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents() : [];
    for (const sample of samples.length > 0 ? samples : [e]) {
      const q = toPixel(sample);
      if (!q || (q.x === s.last.x && q.y === s.last.y)) continue;
      sender.add(linePixels(s.last, q).slice(1), color);
      s.last = q;
    }
  };

  const endStroke = (e: PointerEvent): void => {
    if (stroke.current?.pointerId === e.pointerId) stroke.current = null;
  };

  const hex = `#${color.toString(16).padStart(6, "0")}`;
  return (
    <div class={`canvas-frame${live ? "" : " offline"}`} style={{ aspectRatio: `${size.width || 1} / ${size.height || 1}` }}>
      <canvas
        ref={canvasRef}
        class="pixel-canvas"
        data-testid="pixel-canvas"
        data-width={size.width}
        data-height={size.height}
        data-accepting={live ? "true" : "false"}
        aria-label={`Shared pixel canvas, ${size.width} by ${size.height}`}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={endStroke}
        onPointerCancel={endStroke}
        onPointerLeave={() => setHover(null)}
        onContextMenu={(e) => e.preventDefault()}
      />
      {hover && live && size.width > 0 && (
        <div
          class="hover-cell"
          style={{
            left: `${(hover.x / size.width) * 100}%`,
            top: `${(hover.y / size.height) * 100}%`,
            width: `${100 / size.width}%`,
            height: `${100 / size.height}%`,
            boxShadow: `0 0 0 2px ${hex}, 0 0 0 3px rgba(0,0,0,.6)`,
          }}
        />
      )}
      {!live && (
        <div class="canvas-overlay" data-testid="canvas-overlay">
          <span>{size.width === 0 ? "loading canvas…" : statusText(state)}</span>
          {size.width > 0 && <small>drawing is paused until the connection is back</small>}
        </div>
      )}
    </div>
  );
}
