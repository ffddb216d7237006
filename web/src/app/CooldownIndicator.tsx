import { useEffect, useMemo, useState } from "preact/hooks";
import type { CanvasClient } from "../protocol/canvas-client.js";
import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import { Cooldown, cooldownText } from "./cooldown.js";
import { COOLDOWN_TICK_MS } from "../protocol/timing.js";

/** Props of CooldownIndicator. */
export interface CooldownIndicatorProps {
  client: CanvasClient;
}

/**
 * Shows "wait N s", counting down, after the gateway refused a Place as RATE_LIMITED with a
 * retry_after_ms (the person's placement budget, shared by all their tabs, is spent); nothing otherwise.
 */
export function CooldownIndicator({ client }: CooldownIndicatorProps) {
  const cooldown = useMemo(() => new Cooldown(), []);
  const [remainingMs, setRemainingMs] = useState(0);

  useEffect(
    () =>
      client.on("error", (e) => {
        if (e.code !== ErrorCode.RATE_LIMITED) return;
        cooldown.refused(e.retryAfterMs, Date.now());
        setRemainingMs(cooldown.remainingMs(Date.now()));
      }),
    [client, cooldown],
  );

  useEffect(() => {
    if (remainingMs <= 0) return;
    const timer = setTimeout(() => setRemainingMs(cooldown.remainingMs(Date.now())), Math.min(COOLDOWN_TICK_MS, remainingMs));
    return () => clearTimeout(timer);
  }, [remainingMs, cooldown]);

  if (remainingMs <= 0) return null;
  return (
    <span class="status cooldown" data-testid="cooldown" role="timer" aria-live="polite">
      {cooldownText(remainingMs)}
    </span>
  );
}
