import { useEffect, useState } from "preact/hooks";
import { canvasPath, isCanvasName } from "./canvas-path.js";
import { fetchCanvasList, type CanvasListEntry } from "./canvas-list.js";

/**
 * Links to every canvas the service lists (ListCanvases), the current one marked; each opens
 * `/c/<name>` as a fresh page, so the app keeps one canvas client per page. Hidden until the list
 * has more than one canvas.
 */
export function CanvasPicker({ current }: { current: string }) {
  const [canvases, setCanvases] = useState<readonly CanvasListEntry[]>([]);
  useEffect(() => {
    let live = true;
    void fetchCanvasList().then((list) => live && setCanvases(list.filter((c) => isCanvasName(c.name))));
    return () => {
      live = false;
    };
  }, []);
  if (canvases.length < 2) return null;
  const selected = current === "" ? "default" : current;
  return (
    <nav class="canvas-picker" aria-label="Canvases">
      {canvases.map((c) => (
        <a key={c.name} href={canvasPath(c.name)} aria-current={c.name === selected ? "page" : undefined} title={`${c.width}×${c.height}`}>
          {c.name}
        </a>
      ))}
    </nav>
  );
}
