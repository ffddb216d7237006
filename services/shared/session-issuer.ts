import type { IncomingMessage, ServerResponse } from "node:http";
import { extname } from "node:path";
import type { Logger } from "./logger.js";
import { clientIpKey } from "./client-address.js";
import { PerKeyRateLimit } from "./per-key-rate-limit.js";
import type { SecurityConfig } from "./security-config.js";
import { sessionSetCookie, sessionTokenOf } from "./session-cookie.js";
import type { IssuedSession, Session, SessionTokens } from "./session-token.js";
import { SESSION_RATE_WINDOW_MS } from "./timing.js";

/** Path that mints (or renews) a session. */
export const SESSION_PATH = "/session";

/** What POST /session answers: the session's user id and expiry (Unix seconds); the token itself is only in Set-Cookie. */
export interface SessionResponseBody {
  userId: string;
  expiresAt: number;
}

/** Serves sessions over HTTP: POST /session, and a cookie on the page for a visitor without one. */
export interface SessionIssuer {
  /** Serves POST /session (405 for other methods); returns false for other paths. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /**
   * Before a page (index.html) is written: sets a fresh session cookie when the request has no
   * valid one (and the address is under its cap), or renews one past half its lifetime. Never rejects.
   */
  ensurePageCookie(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/**
 * True for a GET or HEAD the static handler answers with index.html: the root and extensionless
 * paths (the single-page app's routes), never hashed assets.
 */
export function isPageRequest(req: IncomingMessage): boolean {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = (req.url ?? "/").split("?", 1)[0]!;
  if (path.startsWith("/assets/")) return false;
  return extname(path) === "" || path.endsWith("/index.html");
}

/**
 * The one place sessions are minted. An anonymous visitor gets a new random user id; an OAuth
 * login would plug in here too, calling `tokens.issue(accountId)` from its callback, so every
 * other part (gateway, canvas service) keeps reading only the token's `sub`.
 */
export function createSessionIssuer(tokens: SessionTokens, security: Pick<SecurityConfig, "sessionsPerIpPerMinute" | "trustProxy" | "cookieSecure">, log: Logger): SessionIssuer {
  const perIp = new PerKeyRateLimit(security.sessionsPerIpPerMinute, SESSION_RATE_WINDOW_MS);
  const secure = (req: IncomingMessage) => security.cookieSecure || req.headers["x-forwarded-proto"] === "https";

  /** The request's valid session, if any, and whether it is due for renewal. */
  async function current(req: IncomingMessage): Promise<{ session: Session; renew: boolean } | undefined> {
    const token = sessionTokenOf(req.headers);
    const session = token === undefined ? undefined : await tokens.verify(token);
    if (session === undefined) return undefined;
    return { session, renew: session.expiresAt - Date.now() / 1000 < tokens.maxAgeSeconds / 2 };
  }

  /** A new session, or the milliseconds to wait when the address is over its cap. */
  async function mint(req: IncomingMessage): Promise<IssuedSession | number> {
    const ipKey = clientIpKey(req, security.trustProxy);
    const waitMs = perIp.take(ipKey);
    if (waitMs > 0) {
      log.info({ ipKey, limit: security.sessionsPerIpPerMinute }, "new-session cap reached for an address");
      return waitMs;
    }
    return tokens.issue();
  }

  function setCookie(req: IncomingMessage, res: ServerResponse, issued: IssuedSession): void {
    res.setHeader("set-cookie", sessionSetCookie(issued.token, tokens.maxAgeSeconds, secure(req)));
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const existing = await current(req);
    let session: Session;
    if (existing !== undefined && !existing.renew) {
      session = existing.session;
    } else {
      const issued = existing !== undefined ? await tokens.issue(existing.session.userId) : await mint(req);
      if (typeof issued === "number") {
        const retryAfter = Math.max(1, Math.ceil(issued / 1000));
        res
          .writeHead(429, { "content-type": "application/json", "retry-after": String(retryAfter), "cache-control": "no-store" })
          .end(JSON.stringify({ error: `too many new sessions from this address: at most ${security.sessionsPerIpPerMinute} per minute; retry in ${retryAfter} s` }));
        return;
      }
      setCookie(req, res, issued);
      session = issued;
    }
    const body: SessionResponseBody = { userId: session.userId, expiresAt: session.expiresAt };
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
  }

  return {
    handle(req, res) {
      if ((req.url ?? "/").split("?", 1)[0] !== SESSION_PATH) return false;
      if (req.method !== "POST") {
        res.writeHead(405, { allow: "POST", "content-type": "text/plain" }).end("POST /session to get a session\n");
        return true;
      }
      serve(req, res).catch((err: unknown) => {
        log.error({ err }, "cannot issue a session");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("cannot issue a session\n");
      });
      return true;
    },
    async ensurePageCookie(req, res) {
      try {
        const existing = await current(req);
        if (existing !== undefined && !existing.renew) return;
        const issued = existing !== undefined ? await tokens.issue(existing.session.userId) : await mint(req);
        // Over the cap the page is still served; the app's POST /session then reports the 429.
        if (typeof issued !== "number") setCookie(req, res, issued);
      } catch (err) {
        // The page is served without a cookie rather than not at all.
        log.error({ err }, "cannot issue a session with the page");
      }
    },
  };
}
