import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { CanvasClient } from "../protocol/canvas-client.js";
import type { ConnectionState } from "../protocol/canvas-client-types.js";
import type { Point } from "../protocol/line-pixels.js";
import { drawView } from "./draw-view.js";
import { statusText } from "./messages.js";
import { Minimap } from "./Minimap.js";
import { clientPixelSource } from "./pixel-source.js";
import { PixelSurface } from "./pixel-surface.js";
import { PointerGestures, type PointerSample } from "./pointer-gestures.js";
import type { StrokeSender } from "./stroke-sender.js";
import { ViewController } from "./view-controller.js";
import { MINIMAP_REFRESH_MS, URL_WRITE_INTERVAL_MS } from "../protocol/timing.js";
import { isTextEntry, type CanvasMode } from "./view-shortcuts.js";
import { useViewKeys, useWheelZoom } from "./use-view-input.js";
import { parseViewParams, withViewParams } from "./view-url.js";
import { ViewToolbar } from "./ViewToolbar.js";
import { canvasOrigin, pixelAt, visibleRect } from "./viewport.js";
import { OverviewLayer, overviewLevel } from "./overview-layer.js";
import { levelCount } from "../../../protocol/tile-grid.js";
import type { HistoryClient } from "../protocol/history-client.js";
import type { TimelapsePlayer } from "../timelapse/player.js";
import { HistoryToolbar } from "./HistoryToolbar.js";
import { PixelInfo } from "./PixelInfo.js";
import { usePixelLookup } from "./use-pixel-lookup.js";

/** The region a zoomed-out view watches: none (it draws overview tiles). */
const NOTHING = { x: 0, y: 0, width: 0, height: 0 };

/** Props of PixelCanvas. */
export interface PixelCanvasProps {
  client: CanvasClient;
  sender: StrokeSender;
  color: number;
  state: ConnectionState;
  /** Called once per stroke that starts (or continues) while not live: nothing is drawn. */
  onRefused: () => void;
  /** Lookup, and the PNG download's seq. */
  historyService: Pick<HistoryClient, "lookupPixel">;
  /** An open timelapse: the view shows it instead of the live canvas, and nothing is painted. */
  timelapse: TimelapsePlayer | null;
  onUndo: () => void;
  onTimelapse: () => void;
}


/**
 * The drawing surface: a screen-sized canvas showing the part of the shared canvas in view, with
 * zoom (wheel, pinch, keys), pan (hand mode, space-drag, middle button, arrows), a minimap, the
 * hovered coordinate, and the view kept in the URL. Frames are drawn on requestAnimationFrame only
 * when pixels, the view or the size changed, and copy only the visible pixels.
 */
export function PixelCanvas({ client, sender, color, state, onRefused, historyService, timelapse, onUndo, onTimelapse }: PixelCanvasProps) {
  const boxRef = useRef<HTMLDivElement>(null);
  const screenRef = useRef<HTMLCanvasElement>(null);
  const [mode, setMode] = useState<CanvasMode>("brush");
  const [spaceHeld, setSpaceHeld] = useState(false);
  const [gesture, setGesture] = useState<PointerGestures["kind"]>("idle");
  const [hover, setHover] = useState<Point | null>(null);
  const [, setViewRevision] = useState(0);
  const [minimapRevision, setMinimapRevision] = useState(0);
  const live = state === "live";
  const lookup = usePixelLookup(client, historyService);
  const requestFrame = useRef<() => void>(() => undefined);

  // The gesture host reads these when a pointer moves, long after the render that created it.
  const latest = useRef({ color, mode, spaceHeld, onRefused, timelapse });
  latest.current = { color, mode, spaceHeld, onRefused, timelapse };

  const { source, surface, controller, gestures } = useMemo(() => {
    const source = clientPixelSource(client);
    const surface = new PixelSurface(source);
    const controller = new ViewController(parseViewParams(location.search));
    const gestures = new PointerGestures(controller, {
      // The inspector's drag moves the view too; a timelapse is watched, not painted on.
      panning: () => latest.current.mode !== "brush" || latest.current.spaceHeld || latest.current.timelapse !== null,
      paint: (points) => {
        if (client.state !== "live") {
          latest.current.onRefused();
          return false;
        }
        sender.add(points, latest.current.color);
        return true;
      },
    });
    return { source, surface, controller, gestures };
  }, [client, sender]);

  // Rendering: pixel changes, view changes and resizes all just ask for one frame.
  useEffect(() => {
    const box = boxRef.current;
    const el = screenRef.current;
    const ctx = el?.getContext("2d", { alpha: true });
    if (!box || !el || !ctx) return;
    let frame = 0;
    // Whether something besides a playing timelapse (the view, the size, pixels) needs the screen drawn.
    let screenStale = true;
    let dpr = window.devicePixelRatio || 1;
    const overview = new OverviewLayer(
      (level, tile) => `/api/tiles/${encodeURIComponent(client.canvasName)}/${level}/${tile.tx}/${tile.ty}.png`,
      () => request(),
    );
    let minimapTimer: ReturnType<typeof setTimeout> | undefined;
    let urlTimer: ReturnType<typeof setTimeout> | undefined;

    const draw = (): void => {
      frame = 0;
      const stale = screenStale;
      screenStale = false;
      if (surface.sync() && minimapTimer === undefined) {
        minimapTimer = setTimeout(() => {
          minimapTimer = undefined;
          setMinimapRevision((r) => r + 1);
        }, MINIMAP_REFRESH_MS);
      }
      if (!controller.ready) return;
      const view = controller.current;
      const screen = controller.screenSize;
      const canvasSize = controller.canvasSize;
      const visible = visibleRect(view, screen, canvasSize);
      const level = overviewLevel(view.zoom, levelCount(canvasSize.width, canvasSize.height));
      const player = latest.current.timelapse;
      const playback = player?.playback;
      if (player && playback) {
        // The timelapse bitmap holds the whole canvas at every zoom; only its changed tiles on screen
        // are uploaded, and a playing frame in which nothing changed leaves the screen as it is.
        const step = player.frame(performance.now(), visible);
        if (step.more) request(false);
        el.dataset.timelapseSeq = String(playback.seq);
        if (!step.changed && !stale) return;
        drawView(ctx, player.image, view, screen, visible, dpr, !controller.isFitted);
      } else if (level > 0) {
        // Zoomed out: a few downsampled tiles, refreshed now and then; nothing is watched live.
        source.want(NOTHING);
        overview.draw(ctx, view, screen, dpr, canvasSize, level, overview.show(level, visible, canvasSize, performance.now()));
      } else {
        source.want(visible);
        // The fitted view stays as plain as the canvas itself; the grid helps once zoomed in.
        drawView(ctx, surface.image, view, screen, visible, dpr, !controller.isFitted);
      }
      if (!playback) delete el.dataset.timelapseSeq;
      el.dataset.level = String(level);
      const origin = canvasOrigin(view, screen);
      el.dataset.originX = String(origin.x);
      el.dataset.originY = String(origin.y);
      el.dataset.zoom = String(view.zoom);
      el.dataset.seq = String(client.canvas.seq);
    };
    const request = (stale = true): void => {
      screenStale ||= stale;
      if (!frame) frame = requestAnimationFrame(draw);
    };
    requestFrame.current = request;
    const writeUrl = (): void => {
      urlTimer = undefined;
      const search = withViewParams(location.search, controller.isFitted ? undefined : controller.current);
      if (search !== location.search) history.replaceState(history.state, "", `${location.pathname}${search}${location.hash}`);
    };
    const resize = (): void => {
      dpr = window.devicePixelRatio || 1;
      const width = box.clientWidth;
      const height = box.clientHeight;
      el.width = Math.max(1, Math.round(width * dpr));
      el.height = Math.max(1, Math.round(height * dpr));
      controller.setScreen({ width, height });
      request();
    };

    const offs = [
      source.onChange((change) => {
        surface.invalidate(change);
        controller.setCanvas(source.size());
        request();
      }),
      controller.subscribe(() => {
        request();
        setViewRevision((r) => r + 1);
        urlTimer ??= setTimeout(writeUrl, URL_WRITE_INTERVAL_MS);
      }),
    ];
    const observer = new ResizeObserver(resize);
    observer.observe(box);
    controller.setCanvas(source.size());
    resize();
    return () => {
      for (const off of offs) off();
      observer.disconnect();
      cancelAnimationFrame(frame);
      clearTimeout(minimapTimer);
      if (urlTimer !== undefined) {
        clearTimeout(urlTimer);
        writeUrl();
      }
    };
  }, [client, source, surface, controller]);

  // A timelapse opened, closed, loaded, started or scrubbed: draw it (a playing one keeps asking for frames).
  useEffect(() => {
    requestFrame.current();
    return timelapse?.subscribe(() => requestFrame.current());
  }, [timelapse]);

  useWheelZoom(screenRef, controller);
  useViewKeys(controller, setMode, setSpaceHeld);

  const sample = (e: PointerEvent): PointerSample => {
    const r = (screenRef.current ?? (e.currentTarget as HTMLElement)).getBoundingClientRect();
    return { id: e.pointerId, x: e.clientX - r.left, y: e.clientY - r.top, button: e.button, touch: e.pointerType === "touch" };
  };

  const onPointerDown = (e: PointerEvent): void => {
    // preventDefault keeps focus where it was; leave a text field so the shortcuts work again.
    e.preventDefault();
    if (isTextEntry(document.activeElement)) (document.activeElement as HTMLElement).blur();
    if (mode === "inspect" && e.button === 0 && !spaceHeld && controller.ready) {
      const p = pixelAt(controller.current, controller.screenSize, controller.canvasSize, sample(e));
      if (p) lookup.inspect(p);
    }
    if (gestures.down(sample(e))) (e.currentTarget as HTMLCanvasElement).setPointerCapture(e.pointerId);
    setGesture(gestures.kind);
  };

  const onPointerMove = (e: PointerEvent): void => {
    const s = sample(e);
    if (e.pointerType !== "touch" && controller.ready) {
      const p = pixelAt(controller.current, controller.screenSize, controller.canvasSize, s);
      // Re-render only when the pointer reaches another pixel.
      setHover((h) => (h && p && h.x === p.x && h.y === p.y ? h : p));
      lookup.hover(p);
    }
    // Coalesced events carry the samples the browser merged into this one; using them keeps curves round.
    const merged = typeof e.getCoalescedEvents === "function" ? e.getCoalescedEvents().map(sample) : [];
    gestures.move(s, merged);
  };

  const endPointer = (e: PointerEvent): void => {
    gestures.up(e.pointerId);
    setGesture(gestures.kind);
  };

  const { width, height } = controller.canvasSize;
  const view = controller.current;
  const origin = canvasOrigin(view, controller.screenSize);
  const panning = gesture === "pan" || gesture === "pinch";
  const cursor = panning ? "grabbing" : mode === "hand" || spaceHeld || (timelapse && mode === "brush") ? "grab" : mode === "inspect" ? "inspect" : "paint";
  const hex = `#${color.toString(16).padStart(6, "0")}`;
  return (
    <div class="canvas-view">
      <div class="toolbar-row">
        <ViewToolbar mode={mode} zoom={view.zoom} hover={hover} onMode={setMode} onZoom={(f) => controller.zoom(f)} onFit={() => controller.fit()} />
        <HistoryToolbar
          canvas={client.canvasName}
          visible={() => visibleRect(controller.current, controller.screenSize, controller.canvasSize)}
          timelapse={timelapse}
          onUndo={onUndo}
          onTimelapse={onTimelapse}
        />
      </div>
      <div class={`canvas-frame cursor-${cursor}${live ? "" : " offline"}`} ref={boxRef}>
        <canvas
          ref={screenRef}
          class="pixel-canvas"
          data-testid="pixel-canvas"
          data-width={width}
          data-height={height}
          data-accepting={live ? "true" : "false"}
          data-mode={mode}
          aria-label={`Shared pixel canvas, ${width} by ${height}`}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={endPointer}
          onPointerCancel={endPointer}
          onPointerLeave={() => {
            setHover(null);
            lookup.hover(null);
          }}
          onContextMenu={(e) => e.preventDefault()}
        />
        {hover && live && cursor === "paint" && (
          <div
            class="hover-cell"
            style={{
              left: `${origin.x + hover.x * view.zoom}px`,
              top: `${origin.y + hover.y * view.zoom}px`,
              width: `${view.zoom}px`,
              height: `${view.zoom}px`,
              boxShadow: `0 0 0 2px ${hex}, 0 0 0 3px rgba(0,0,0,.6)`,
            }}
          />
        )}
        <PixelInfo view={lookup.view} pinned={lookup.pinned} onClose={lookup.close} />
        {width > 0 && <Minimap image={surface.image} controller={controller} revision={minimapRevision} />}
        {!live && (
          <div class="canvas-overlay" data-testid="canvas-overlay">
            <span>{width === 0 ? "loading canvas…" : statusText(state)}</span>
            {width > 0 && <small>drawing is paused until the connection is back</small>}
          </div>
        )}
      </div>
    </div>
  );
}
