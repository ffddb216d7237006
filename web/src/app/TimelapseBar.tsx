import { useEffect, useState } from "preact/hooks";
import { TIMELAPSE_SPEEDS } from "../timelapse/playback.js";
import type { TimelapsePlayer } from "../timelapse/player.js";

/** Props of TimelapseBar. */
export interface TimelapseBarProps {
  player: TimelapsePlayer;
  onClose: () => void;
}

/** The timelapse controls under the canvas: play/pause, the scrub bar, the speed and where it stands. */
export function TimelapseBar({ player, onClose }: TimelapseBarProps) {
  const [, setRevision] = useState(0);
  useEffect(() => player.subscribe(() => setRevision((r) => r + 1)), [player]);
  const status = player.status;
  return (
    <div class="timelapse-bar" data-testid="timelapse-bar" data-state={status.kind}>
      {status.kind === "loading" && <span class="muted">loading placements… {status.placements.toLocaleString("en")}</span>}
      {status.kind === "failed" && <span class="error">Timelapse unavailable: {status.message}</span>}
      {status.kind === "ready" && (
        <>
          <button type="button" data-testid="timelapse-play" onClick={() => player.setPlaying(!status.playback.playing)}>
            {status.playback.playing ? "Pause" : "Play"}
          </button>
          <input
            type="range"
            data-testid="timelapse-scrub"
            aria-label="Timelapse position (batches)"
            min={0}
            max={status.playback.timeline.batches}
            step={1}
            value={status.playback.batch}
            onInput={(e) => player.seekBatches(Number((e.currentTarget as HTMLInputElement).value))}
          />
          <select data-testid="timelapse-speed" aria-label="Speed" value={String(status.playback.speed)} onChange={(e) => player.setSpeed(Number((e.currentTarget as HTMLSelectElement).value))}>
            {TIMELAPSE_SPEEDS.map((s) => (
              <option key={s} value={String(s)}>
                {s}×
              </option>
            ))}
          </select>
          <output data-testid="timelapse-position" data-seq={status.playback.seq}>
            seq {status.playback.seq} / {status.playback.timeline.batches === 0 ? 0 : status.playback.timeline.batchSeq[status.playback.timeline.batches - 1]}
            {status.playback.timeUnixMs > 0 && ` · ${new Date(status.playback.timeUnixMs).toLocaleString()}`}
          </output>
        </>
      )}
      <button type="button" data-testid="timelapse-close" onClick={onClose}>
        Back to live
      </button>
    </div>
  );
}
