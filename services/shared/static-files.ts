import { createReadStream, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, resolve, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * The Content-Security-Policy of the built app: its own scripts, styles and images, plus data:
 * images (the inline favicon) and blob: ones (object URLs only the app's own script can mint);
 * fetch and WebSocket to its own origin only ('self' covers ws:/wss: to the same host in CSP
 * Level 3); nothing else loads, nothing frames it, no <base>, forms post only home. Preact sets
 * `style` props through the CSSOM, which CSP leaves alone, so style-src needs no 'unsafe-inline'.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** Headers on every response of the static handler, errors included. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

/** Vite writes content-hashed files here, so a name never changes meaning and may be cached for good. */
const HASHED_ASSETS_DIR = "assets";

/** Where the built web app lives: WEB_DIST_DIR, or web/dist under the working directory. */
export function webDistDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.WEB_DIST_DIR || join("web", "dist"));
}

/**
 * Serves the built single-page app from `root` with {@link SECURITY_HEADERS}: hashed assets are
 * cached for a year, everything else (index.html above all, which names the current hashes)
 * revalidates on every load, unknown paths fall back to index.html, and paths escaping the root
 * are refused.
 */
export function createStaticHandler(root: string): (req: IncomingMessage, res: ServerResponse) => void {
  const base = resolve(root);
  const hashed = join(base, HASHED_ASSETS_DIR) + sep;
  return (req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    } catch {
      res.writeHead(400).end("bad path");
      return;
    }
    let file = normalize(join(base, pathname));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end("forbidden");
      return;
    }
    let stat = statOrUndefined(file);
    if (stat?.isDirectory()) stat = statOrUndefined((file = join(file, "index.html")));
    if (!stat && !extname(pathname)) stat = statOrUndefined((file = join(base, "index.html")));
    if (!stat?.isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    // Decided by the file served, not the path asked for: /assets/<unknown> falls back to index.html.
    const immutable = file.startsWith(hashed);
    res.writeHead(200, {
      "content-type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
      "content-length": stat.size,
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
    });
    if (req.method === "HEAD") res.end();
    else
      createReadStream(file)
        // A file removed mid-response (a rebuild) ends this response, never the process.
        .on("error", () => res.destroy())
        .pipe(res);
  };
}

function statOrUndefined(path: string) {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
