import { generateSessionKey, parseSessionKeys, SessionTokens } from "../../services/shared/session-token.js";

/** A session as a non-browser client holds it: the user id and the Cookie header that carries it. */
export interface ClientSession {
  userId: string;
  /** `pp_session=<token>`, for a Cookie header (WebSocket upgrade or /api call). */
  cookie: string;
  /** The bare token, for `authorization: Bearer <token>`. */
  token: string;
}

/** A fresh SESSION_KEYS value (one key) for the processes a test or tool starts; they must all get the same. */
export function testSessionKeys(): string {
  return generateSessionKey("test");
}

/**
 * Gets a session the way a browser does: POST /session on `baseUrl` (a gateway, the web tier or
 * the local entry), taking the token from Set-Cookie. Throws with the status on anything but 200.
 */
export async function fetchSession(baseUrl: string): Promise<ClientSession> {
  const res = await fetch(`${baseUrl.replace(/\/$/, "")}/session`, { method: "POST" });
  if (res.status !== 200) throw new Error(`POST ${baseUrl}/session answered ${res.status}: ${await res.text()}`);
  const { userId } = (await res.json()) as { userId: string };
  const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0]!).find((c) => c.startsWith("pp_session="));
  if (cookie === undefined) throw new Error(`POST ${baseUrl}/session set no pp_session cookie`);
  return { userId, cookie, token: cookie.slice("pp_session=".length) };
}

/**
 * Signs a session with `sessionKeys` directly, for a test that runs a process which verifies
 * sessions but does not issue them (the canvas service alone). A negative `maxAgeSeconds` gives a
 * token that has already expired.
 */
export async function mintSession(sessionKeys: string, maxAgeSeconds = 3600): Promise<ClientSession> {
  const { token, userId } = await new SessionTokens(parseSessionKeys(sessionKeys), maxAgeSeconds).issue();
  return { userId, cookie: `pp_session=${token}`, token };
}
