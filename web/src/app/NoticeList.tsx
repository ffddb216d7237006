import type { Notice } from "./notice-store.js";

/** Props of NoticeList. */
export interface NoticeListProps {
  notices: readonly Notice[];
  onDismiss: (id: number) => void;
}

/** Error and info messages, newest last, announced to screen readers. */
export function NoticeList({ notices, onDismiss }: NoticeListProps) {
  return (
    <div class="notices" aria-live="assertive">
      {notices.map((n) => (
        <div key={n.id} class={`notice notice-${n.kind}`} data-testid="notice" data-kind={n.kind} role="alert">
          <span>{n.text}</span>
          {n.count > 1 && <span class="times">×{n.count}</span>}
          <button type="button" aria-label="Dismiss" onClick={() => onDismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
