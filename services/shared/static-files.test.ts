import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, get, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStaticHandler } from "./static-files.js";

const IMMUTABLE = "public, max-age=31536000, immutable";

/** A GET with the path sent as written (fetch would resolve the dot segments first). */
function rawGet(url: string): Promise<{ status: number; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, headers: res.headers });
    }).on("error", reject);
  });
}

describe("createStaticHandler", () => {
  const root = mkdtempSync(join(tmpdir(), "static-files-"));
  let server: Server;
  let base: string;

  beforeAll(async () => {
    writeFileSync(join(root, "index.html"), "<!doctype html><title>app</title>");
    mkdirSync(join(root, "assets"));
    writeFileSync(join(root, "assets", "index-AbC123.js"), "export {};");
    writeFileSync(join(root, "robots.txt"), "");
    server = createServer(createStaticHandler(root));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it("sends index.html with a strict CSP, nosniff, no referrer, and revalidation on every load", async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = Object.fromEntries(
      (res.headers.get("content-security-policy") ?? "").split(";").map((d) => {
        const [name = "", ...values] = d.trim().split(/\s+/);
        return [name, values.join(" ")];
      }),
    );
    expect(csp).toEqual({
      "default-src": "'none'",
      "script-src": "'self'",
      "style-src": "'self'",
      "img-src": "'self' data: blob:",
      "connect-src": "'self'",
      "object-src": "'none'",
      "frame-ancestors": "'none'",
      "base-uri": "'none'",
      "form-action": "'self'",
    });
  });

  it("caches hashed assets for a year, and revalidates files outside assets/", async () => {
    const asset = await fetch(`${base}/assets/index-AbC123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe(IMMUTABLE);
    expect(asset.headers.get("content-security-policy")).toContain("script-src 'self'");
    const plain = await fetch(`${base}/robots.txt`);
    expect(plain.headers.get("cache-control")).toBe("no-cache");
  });

  it("falls back to index.html for an unknown path, never cached for good even under /assets/", async () => {
    for (const path of ["/some/route", "/assets/route"]) {
      const res = await fetch(`${base}${path}`);
      expect(res.status, path).toBe(200);
      expect(await res.text(), path).toContain("<title>app</title>");
      expect(res.headers.get("cache-control"), path).toBe("no-cache");
    }
  });

  it("sends the security headers on errors too (404, 405, 403)", async () => {
    const missing = await fetch(`${base}/assets/missing.js`);
    const post = await fetch(`${base}/`, { method: "POST" });
    const escape = await rawGet(`${base}/..%2f..%2fetc%2fpasswd`);
    expect([missing.status, post.status, escape.status]).toEqual([404, 405, 403]);
    for (const headers of [...[missing, post].map((r) => Object.fromEntries(r.headers)), escape.headers]) {
      expect(headers["x-content-type-options"]).toBe("nosniff");
      expect(headers["content-security-policy"]).toContain("default-src 'none'");
      expect(headers["referrer-policy"]).toBe("no-referrer");
    }
  });
});
