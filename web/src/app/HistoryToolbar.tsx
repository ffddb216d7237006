import { useEffect, useState } from "preact/hooks";
import type { TimelapsePlayer } from "../timelapse/player.js";
import type { Rect } from "../protocol/rect.js";
import { exportFileName, exportUrl, type ExportChoice } from "./export-url.js";

/** Props of HistoryToolbar. */
export interface HistoryToolbarProps {
  /** The canvas's name as joined ("" before the first Welcome). */
  canvas: string;
  /** The canvas pixels on screen now, for "this view" downloads. */
  visible: () => Rect;
  /** An open timelapse: once loaded, downloads show the canvas at its position. */
  timelapse: TimelapsePlayer | null;
  onUndo: () => void;
  onTimelapse: () => void;
}

/** Undo, the timelapse switch and the PNG download, beside the view tools. */
export function HistoryToolbar({ canvas, visible, timelapse, onUndo, onTimelapse }: HistoryToolbarProps) {
  const [scope, setScope] = useState<"canvas" | "view">("canvas");
  // Only this small toolbar follows the timelapse position (for the button's label), not the whole view.
  const [, setRevision] = useState(0);
  useEffect(() => timelapse?.subscribe(() => setRevision((r) => r + 1)), [timelapse]);
  const timelapseSeq = timelapse?.playback?.seq;
  const timelapseOpen = timelapse !== null;
  const download = (): void => {
    const rect = visible();
    const choice: ExportChoice = { rect: scope === "view" && rect.width > 0 && rect.height > 0 ? rect : undefined, atSeq: timelapseSeq };
    const a = document.createElement("a");
    a.href = exportUrl(canvas, choice);
    a.download = exportFileName(canvas, choice);
    document.body.append(a);
    a.click();
    a.remove();
  };
  return (
    <div class="tool-group" role="group" aria-label="History">
      <button type="button" data-testid="undo" title="Undo your last placement (Ctrl+Z / ⌘Z), within a few seconds" onClick={onUndo} disabled={timelapseOpen}>
        Undo
      </button>
      <button type="button" data-testid="timelapse-toggle" aria-pressed={timelapseOpen} title="Replay the canvas's history" onClick={onTimelapse}>
        Timelapse
      </button>
      <select data-testid="download-scope" aria-label="What to download" value={scope} onChange={(e) => setScope((e.currentTarget as HTMLSelectElement).value === "view" ? "view" : "canvas")}>
        <option value="canvas">whole canvas</option>
        <option value="view">this view</option>
      </select>
      <button type="button" data-testid="download-png" disabled={canvas === ""} title={timelapseSeq !== undefined ? `PNG of the canvas at seq ${timelapseSeq}` : "PNG of the canvas now"} onClick={download}>
        PNG{timelapseSeq !== undefined ? ` @${timelapseSeq}` : ""}
      </button>
    </div>
  );
}
