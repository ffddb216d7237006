import type { Placement } from "../../../gen/pixel/v1/history_pb.js";
import type { LookupView } from "../protocol/pixel-lookup.js";
import { toHex } from "./ColorPicker.js";
import { agoText, authorText, kindText } from "./lookup-text.js";

/** Props of PixelInfo. */
export interface PixelInfoProps {
  view: LookupView;
  /** Pinned by an inspect click: lists every placement returned, not just the newest. */
  pinned: boolean;
  onClose: () => void;
}

function Swatch({ color }: { color: number }) {
  return <i class="swatch-dot" style={{ background: toHex(color) }} title={toHex(color)} />;
}

function PlacementRow({ p, now }: { p: Placement; now: number }) {
  const kind = kindText(p);
  return (
    <li>
      <Swatch color={p.color} /> <strong data-testid="pixel-info-author">{authorText(p)}</strong> <span class="muted">{agoText(Number(p.timeUnixMs), now)}</span>
      <span class="muted"> · was </span>
      <Swatch color={p.previousColor} />
      <span class="muted"> · seq {String(p.seq)}</span>
      {kind && <em class="muted"> · {kind}</em>}
    </li>
  );
}

/** Who placed the pixel under the pointer (or the inspected pixel), when, and what was there before. */
export function PixelInfo({ view, pinned, onClose }: PixelInfoProps) {
  // A failed hover stays quiet (a server without history would show it on every pixel); an inspect click says why.
  if (view.kind === "none" || (view.kind === "failed" && !pinned)) return null;
  const now = Date.now();
  const { x, y } = view.pixel;
  return (
    <div class="pixel-info" data-testid="pixel-info" data-state={view.kind} role="status" aria-live="polite">
      <header>
        <span>
          Pixel {x}, {y}
        </span>
        {pinned && (
          <button type="button" aria-label="Close" onClick={onClose}>
            ×
          </button>
        )}
      </header>
      {view.kind === "loading" && <p class="muted">looking up…</p>}
      {view.kind === "failed" && <p class="error">{view.message}</p>}
      {view.kind === "ready" && view.placements.length === 0 && <p class="muted">{view.trailing ? "not in the history log yet…" : "never painted"}</p>}
      {view.kind === "ready" && view.placements.length > 0 && (
        <ul>
          {(pinned ? view.placements : view.placements.slice(0, 1)).map((p) => (
            <PlacementRow key={`${p.epoch}-${p.seq}`} p={p} now={now} />
          ))}
        </ul>
      )}
      {view.kind === "ready" && view.trailing && view.placements.length > 0 && <p class="muted">the history log is catching up…</p>}
      {view.kind === "ready" && pinned && view.more && <p class="muted">older placements not shown</p>}
    </div>
  );
}
