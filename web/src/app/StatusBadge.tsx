import type { ConnectionState } from "../protocol/canvas-client-types.js";
import { statusText } from "./messages.js";

/** Props of StatusBadge. */
export interface StatusBadgeProps {
  state: ConnectionState;
  rttMs: number | undefined;
}

/** The connection status pill; data-state carries the raw state for tests. */
export function StatusBadge({ state, rttMs }: StatusBadgeProps) {
  return (
    <span class={`status status-${state}`} data-testid="connection-status" data-state={state} role="status" aria-live="polite">
      <span class="dot" aria-hidden="true" />
      {statusText(state)}
      {state === "live" && rttMs !== undefined && <span class="rtt">{rttMs} ms</span>}
    </span>
  );
}
