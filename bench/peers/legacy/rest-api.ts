import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { LEGACY_CANVAS_KEY } from "./protocol.js";

/** Largest JSON body the REST API reads; a pixel is far smaller. */
const MAX_BODY_BYTES = 4096;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new Error("body too large"));
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * The legacy REST canvas API: `POST /api/pixel` stores one pixel with one HSET,
 * `GET /api/canvas` returns the whole hash. One HTTP call per pixel, as the old design did.
 */
export function createLegacyRestApi(redis: Redis, width: number, height: number): Server {
  return createServer((req, res) => {
    void handle(req, res).catch((err: Error) => send(res, 500, { error: err.message }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === "POST" && req.url === "/api/pixel") {
      let body: { x?: unknown; y?: unknown; color?: unknown };
      try {
        body = JSON.parse(await readBody(req)) as typeof body;
      } catch (err) {
        send(res, 400, { error: `bad body: ${(err as Error).message}` });
        return;
      }
      const { x, y, color } = body;
      if (typeof x !== "number" || typeof y !== "number" || x < 0 || y < 0 || x >= width || y >= height || typeof color !== "string") {
        send(res, 400, { error: "x, y must be inside the canvas and color a string" });
        return;
      }
      await redis.hset(LEGACY_CANVAS_KEY, `${x},${y}`, color);
      send(res, 200, { ok: true });
      return;
    }
    if (req.method === "GET" && req.url === "/api/canvas") {
      send(res, 200, { width, height, pixels: await redis.hgetall(LEGACY_CANVAS_KEY) });
      return;
    }
    if (req.method === "GET" && req.url === "/healthz") {
      send(res, 200, { ok: true });
      return;
    }
    send(res, 404, { error: `no route ${req.method} ${req.url}` });
  }
}
