import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { CanvasClient } from "../protocol/canvas-client.js";
import type { HistoryClient } from "../protocol/history-client.js";
import type { Point } from "../protocol/line-pixels.js";
import { PixelLookup, type LookupView } from "../protocol/pixel-lookup.js";

/** Placements a pinned (inspected) pixel lists at most. */
export const INSPECT_LIMIT = 10;

/** The pixel lookup of a canvas view: what to show, and the pointer's ways to ask. */
export interface PixelLookupHandle {
  view: LookupView;
  /** An inspect click pinned the shown pixel; hovering does not replace it. */
  pinned: boolean;
  /** The pointer rests on `pixel` (null: on none). */
  hover(pixel: Point | null): void;
  /** An inspect click on `pixel`: asked at once, and pinned. */
  inspect(pixel: Point): void;
  /** Unpins and hides. */
  close(): void;
}

/** One PixelLookup for the page's client: answers invalidated by the batches the client applies. */
export function usePixelLookup(client: CanvasClient, history: Pick<HistoryClient, "lookupPixel">): PixelLookupHandle {
  const [view, setView] = useState<LookupView>({ kind: "none" });
  const [pinned, setPinned] = useState(false);
  const pinnedRef = useRef(false);
  const lookup = useMemo(
    () => new PixelLookup((p, signal) => history.lookupPixel({ canvasId: client.canvasName, x: p.x, y: p.y, limit: INSPECT_LIMIT }, { signal }), setView, () => client.canvas.width),
    [client, history],
  );
  useEffect(() => {
    const off = client.on("batch", (e) => lookup.painted(e.batch.pixels, e.batch.seq));
    return () => {
      off();
      lookup.dispose();
    };
  }, [client, lookup]);
  const pin = (on: boolean): void => {
    pinnedRef.current = on;
    setPinned(on);
  };
  return {
    view,
    pinned,
    hover: (pixel) => {
      if (!pinnedRef.current) lookup.show(pixel, client.canvas.seq);
    },
    inspect: (pixel) => {
      pin(true);
      lookup.show(pixel, client.canvas.seq, true);
    },
    close: () => {
      pin(false);
      lookup.show(null, client.canvas.seq);
    },
  };
}
