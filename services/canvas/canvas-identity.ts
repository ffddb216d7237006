import type { SecurityConfig } from "../shared/security-config.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../shared/session-token.js";

/** What the canvas service checks sessions and admin credentials with. */
export interface CanvasIdentity {
  tokens: SessionTokens;
  security: Pick<SecurityConfig, "sessions" | "adminCredentials" | "adminOverPublicApi">;
}

/**
 * For canvas servers built without identity settings (in-process tests): a key no client holds, so
 * no session verifies and public writes are refused; no admin credential, so admin RPCs are off.
 */
export function closedCanvasIdentity(): CanvasIdentity {
  return {
    tokens: new SessionTokens(parseSessionKeys(generateSessionKey("closed")), 60),
    security: { sessions: "required", adminCredentials: [], adminOverPublicApi: false },
  };
}
