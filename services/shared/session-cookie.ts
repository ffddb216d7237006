import type { IncomingHttpHeaders } from "node:http";

/** Name of the session cookie. */
export const SESSION_COOKIE = "pp_session";

/** The value of cookie `name` in a Cookie header, or undefined. Tolerates spaces and stray separators. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let value = part.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return value;
  }
  return undefined;
}

/**
 * The session token a request carries: the pp_session cookie (browsers), else an
 * `authorization: Bearer <token>` header (non-browser clients of /api).
 */
export function sessionTokenOf(headers: IncomingHttpHeaders | Headers): string | undefined {
  const get = (name: string) => (headers instanceof Headers ? (headers.get(name) ?? undefined) : headers[name]);
  const cookie = get("cookie");
  const fromCookie = readCookie(Array.isArray(cookie) ? cookie.join("; ") : cookie, SESSION_COOKIE);
  if (fromCookie) return fromCookie;
  const auth = get("authorization");
  const match = typeof auth === "string" ? /^Bearer ([A-Za-z0-9_.-]+)$/.exec(auth) : null;
  return match?.[1];
}

/**
 * The Set-Cookie value for a session: HttpOnly (no script can read it), SameSite=Lax (not sent on
 * cross-site subrequests, so another site cannot place as the visitor), for the whole site.
 */
export function sessionSetCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}
