import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { decode } from "fast-png";
import { Agent, get, type IncomingMessage } from "node:http";
import WebSocket from "ws";
import { ClientFrameSchema, HelloSchema, ServerFrameSchema, WatchSchema, type ServerFrame } from "../../gen/pixel/v1/realtime_pb.js";
import type { PixelRect } from "../../protocol/tile-grid.js";
import { PIXEL_PROTOCOL, tilesToWatch } from "../../protocol/tile-watch.js";
import { TILE_RETRY_BASE_MS, TILE_RETRY_MAX_MS } from "../../web/src/protocol/timing.js";
import { now } from "./clock.js";

/** One client joining a canvas to look at one viewport, as the web app does on page load. */
export interface JoinSpec {
  /** ws:// URL of the entry a browser uses (the balancer's /ws). */
  wsUrl: string;
  /** http:// origin of the same entry, whose /api/tiles/ reaches the canvas service. */
  httpBase: string;
  canvasId: string;
  /** The canvas pixels on screen. */
  view: PixelRect;
  /** Longest wait for the whole join before it counts as failed. */
  timeoutMs: number;
}

/** What one join cost and took. */
export interface JoinOutcome {
  /** Connect start to the last visible tile decoded with the Watching received, in ms. */
  paintedMs: number;
  tiles: number;
  /** WebSocket frames both ways (payloads) up to the painted moment. */
  wsBytes: number;
  /** Tile PNG bodies. */
  tileBodyBytes: number;
  /** Request lines and headers of every tile GET, both ways (approximate: as the bytes were counted on the parsed messages). */
  httpHeaderBytes: number;
  /** Tile reads that failed and were retried, by reason (`HTTP 503`, an error message). */
  tileRetries: Record<string, number>;
}

/**
 * Joins like the web client on protocol 2: opens the socket, sends Hello, on the Welcome sends a
 * Watch of the viewport's level-0 tiles, on the Watching GETs each of those tiles over HTTP (its
 * own keep-alive agent with a browser's 6 connections per origin) and decodes each PNG with
 * fast-png. A failed read is retried after the web client's backoff (TILE_RETRY_BASE_MS doubling up
 * to TILE_RETRY_MAX_MS), as the app does. Resolves when every tile is decoded; the socket is left
 * open for `close()`.
 */
export function joinViewport(spec: JoinSpec): { outcome: Promise<JoinOutcome>; close(): void } {
  const startedAt = now();
  const agent = new Agent({ keepAlive: true, maxSockets: 6 });
  const ws = new WebSocket(spec.wsUrl, { perMessageDeflate: false });
  let wsBytes = 0;
  let closed = false;
  const tileRetries: Record<string, number> = {};
  const readTile = async (url: string): Promise<{ bodyBytes: number; headerBytes: number }> => {
    for (let failures = 0; ; failures++) {
      try {
        return await fetchTile(agent, url);
      } catch (err) {
        if (closed) throw err;
        const reason = err instanceof TileStatusError ? `HTTP ${err.status}` : (err as Error).message;
        tileRetries[reason] = (tileRetries[reason] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Math.min(TILE_RETRY_MAX_MS, TILE_RETRY_BASE_MS * 2 ** failures)));
      }
    }
  };
  const send = (frame: Parameters<typeof create<typeof ClientFrameSchema>>[1]) => {
    const bytes = toBinary(ClientFrameSchema, create(ClientFrameSchema, frame));
    wsBytes += bytes.length;
    ws.send(bytes);
  };
  const outcome = new Promise<JoinOutcome>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no painted viewport within ${spec.timeoutMs} ms`)), spec.timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    ws.on("error", fail);
    ws.on("close", (code) => fail(new Error(`socket closed with ${code} before the viewport was painted`)));
    ws.on("open", () => send({ frame: { case: "hello", value: create(HelloSchema, { canvasId: spec.canvasId, name: "join-bench", protocol: PIXEL_PROTOCOL }) } }));
    let width = 0;
    let height = 0;
    ws.on("message", (data: Buffer) => {
      wsBytes += data.length;
      let frame: ServerFrame;
      try {
        frame = fromBinary(ServerFrameSchema, data);
      } catch (err) {
        fail(err as Error);
        return;
      }
      const f = frame.frame;
      if (f.case === "welcome") {
        width = f.value.width;
        height = f.value.height;
        const tiles = tilesToWatch(width, height, spec.view) ?? [];
        send({ frame: { case: "watch", value: create(WatchSchema, { tiles }) } });
      } else if (f.case === "watching") {
        const tiles = tilesToWatch(width, height, spec.view) ?? [];
        Promise.all(tiles.map((t) => readTile(`${spec.httpBase}/api/tiles/${encodeURIComponent(spec.canvasId)}/0/${t.tx}/${t.ty}.png?seq=${f.value.seq}`))).then((reads) => {
          clearTimeout(timer);
          resolve({
            paintedMs: now() - startedAt,
            tiles: reads.length,
            wsBytes,
            tileBodyBytes: reads.reduce((a, r) => a + r.bodyBytes, 0),
            httpHeaderBytes: reads.reduce((a, r) => a + r.headerBytes, 0),
            tileRetries,
          });
        }, fail);
      } else if (f.case === "error") fail(new Error(`error frame ${f.value.code}: ${f.value.message}`));
    });
  });
  outcome.catch(() => undefined);
  return {
    outcome,
    close() {
      closed = true;
      ws.removeAllListeners("close");
      ws.close();
      agent.destroy();
    },
  };
}

/** A tile GET answered with a status other than 200. */
class TileStatusError extends Error {
  constructor(url: string, readonly status: number) {
    super(`GET ${url}: HTTP ${status}`);
  }
}

/** GETs one tile and decodes it; throws on anything but a 200 with a decodable PNG. */
function fetchTile(agent: Agent, url: string): Promise<{ bodyBytes: number; headerBytes: number }> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        if (res.statusCode !== 200) {
          reject(new TileStatusError(url, res.statusCode ?? 0));
          return;
        }
        const body = Buffer.concat(chunks);
        try {
          decode(body);
        } catch (err) {
          reject(err as Error);
          return;
        }
        const responseHeaders = res.rawHeaders.reduce((a, h) => a + h.length + 2, 0) + 17;
        const requestHeaders = url.length + 16 + Object.entries(req.getHeaders()).reduce((a, [k, v]) => a + k.length + String(v).length + 4, 0);
        resolve({ bodyBytes: body.length, headerBytes: responseHeaders + requestHeaders });
      });
    });
    req.on("error", reject);
  });
}
