import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createSessionIssuer, isPageRequest } from "./session-issuer.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "./session-token.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A server that answers /session with the issuer and every other path with a page (and its cookie). */
async function start(sessionsPerIpPerMinute = 30, maxAgeSeconds = 3600) {
  const tokens = new SessionTokens(parseSessionKeys(generateSessionKey()), maxAgeSeconds);
  const issuer = createSessionIssuer(tokens, { sessionsPerIpPerMinute, trustProxy: false, cookieSecure: false }, pino({ level: "silent" }));
  const server = createServer((req, res) => {
    if (issuer.handle(req, res)) return;
    void issuer.ensurePageCookie(req, res).then(() => res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html>"));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { tokens, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const cookieOf = (res: Response) => res.headers.getSetCookie()[0];

describe("session issuer", () => {
  it("POST /session sets an HttpOnly cookie with a verifiable token and answers its user id and expiry", async () => {
    const { tokens, url } = await start();
    const res = await fetch(`${url}/session`, { method: "POST" });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { userId: string; expiresAt: number };
    const cookie = cookieOf(res)!;
    expect(cookie).toMatch(/^pp_session=[^;]+; HttpOnly; SameSite=Lax; Path=\/; Max-Age=3600$/);
    const token = /^pp_session=([^;]+)/.exec(cookie)![1]!;
    expect(await tokens.verify(token)).toEqual(body);
  });

  it("keeps a valid session: no new cookie, the same user id", async () => {
    const { url } = await start();
    const first = await fetch(`${url}/session`, { method: "POST" });
    const { userId } = (await first.json()) as { userId: string };
    const again = await fetch(`${url}/session`, { method: "POST", headers: { cookie: cookieOf(first)!.split(";")[0]! } });
    expect(cookieOf(again)).toBeUndefined();
    expect(((await again.json()) as { userId: string }).userId).toBe(userId);
  });

  it("renews a session past half its lifetime for the same user id", async () => {
    const { tokens, url } = await start();
    const old = await tokens.issue(undefined, Math.floor(Date.now() / 1000) - 2000);
    const res = await fetch(`${url}/session`, { method: "POST", headers: { cookie: `pp_session=${old.token}` } });
    expect(cookieOf(res)).toBeDefined();
    expect(((await res.json()) as { userId: string }).userId).toBe(old.userId);
  });

  it("caps new sessions per address per minute with 429 and Retry-After", async () => {
    const { url } = await start(2);
    for (let i = 0; i < 2; i++) expect((await fetch(`${url}/session`, { method: "POST" })).status).toBe(200);
    const capped = await fetch(`${url}/session`, { method: "POST" });
    expect(capped.status).toBe(429);
    expect(Number(capped.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(Number(capped.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });

  it("answers 405 to other methods on /session", async () => {
    const { url } = await start();
    expect((await fetch(`${url}/session`)).status).toBe(405);
  });

  it("sets the cookie on a page for a visitor without a valid one, and not again once they have it", async () => {
    const { url } = await start();
    const first = await fetch(`${url}/`);
    expect(cookieOf(first)).toMatch(/^pp_session=/);
    const second = await fetch(`${url}/`, { headers: { cookie: cookieOf(first)!.split(";")[0]! } });
    expect(cookieOf(second)).toBeUndefined();
  });

  it("counts only pages (not assets, not other methods) as page requests", () => {
    const req = (method: string, url: string) => ({ method, url }) as Parameters<typeof isPageRequest>[0];
    expect([isPageRequest(req("GET", "/")), isPageRequest(req("GET", "/c/other?x=1")), isPageRequest(req("HEAD", "/index.html"))]).toEqual([true, true, true]);
    expect([isPageRequest(req("GET", "/assets/app.js")), isPageRequest(req("GET", "/favicon.ico")), isPageRequest(req("POST", "/"))]).toEqual([false, false, false]);
  });
});
