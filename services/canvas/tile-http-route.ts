import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { CANVAS_ID_PATTERN, resolveCanvasId } from "../shared/config.js";
import { levelCount } from "../../protocol/tile-grid.js";
import type { CanvasCatalog } from "./canvas-catalog.js";
import type { Logger } from "../shared/logger.js";
import { TILE_MAX_AGE_S } from "../shared/timing.js";
import { tileResponses } from "./canvas-metrics.js";
import { StoreUnavailableError } from "./canvas-store.js";
import type { TileReader } from "./tile-reader.js";

/** Where tiles are served: `/api/tiles/<canvas>/<level>/<tx>/<ty>.png`, under the Connect API's prefix so every route to /api reaches it. */
export const TILE_PATH_PREFIX = "/api/tiles/";

const TILE_PATH = /^\/api\/tiles\/([^/]+)\/(\d{1,2})\/(\d{1,5})\/(\d{1,5})\.png$/;

/** Whether an If-None-Match header value matches an ETag (weak comparison, as RFC 9110 asks for it). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const bare = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || bare(tag) === bare(etag));
}

/**
 * Serves tiles over plain HTTP GET so browsers and CDNs cache them: the body is the tile's PNG,
 * `ETag: "<epoch>-<version>"` names its content (If-None-Match answers 304), `Cache-Control:
 * public, max-age=1` lets a CDN absorb a crowd with one request per tile per second, as r/place
 * did, and `X-Canvas-Seq`, `X-Canvas-Epoch`, `X-Tile-Version` carry GetTile's stamps. Returns a
 * handler that answers paths under TILE_PATH_PREFIX and returns false for any other path.
 */
export function createTileHttpHandler(deps: { catalog: CanvasCatalog; tiles: TileReader; logger: Logger }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? "/").split("?", 1)[0]!;
    if (!path.startsWith(TILE_PATH_PREFIX)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("tiles are read with GET\n");
      return true;
    }
    const match = TILE_PATH.exec(path);
    const canvasId = match && resolveCanvasId(match[1]!);
    if (!match || !CANVAS_ID_PATTERN.test(canvasId!)) {
      res.writeHead(400, { "content-type": "text/plain" }).end("tile paths are /api/tiles/<canvas>/<level>/<tx>/<ty>.png\n");
      return true;
    }
    const level = Number(match[2]);
    let levels = 0;
    // Levels past the canvas's are counted together, so a client cannot grow the label set.
    res.once("finish", () => tileResponses.inc({ level: level < levels ? String(level) : "none", status: String(res.statusCode) }));
    const read = deps.catalog.resolve(canvasId!).then((shape) => {
      levels = levelCount(shape.width, shape.height);
      return deps.tiles.read(canvasId!, shape, level, { tx: Number(match[3]), ty: Number(match[4]) });
    });
    read.then(
      (tile) => {
        if (tile === undefined) {
          res.writeHead(404, { "content-type": "text/plain" }).end(`tile ${match[2]}/${match[3]}/${match[4]} is outside the canvas (levels 0-${levels - 1})\n`);
          return;
        }
        const etag = `"${tile.epoch}-${tile.version}"`;
        const headers = {
          etag,
          "cache-control": `public, max-age=${TILE_MAX_AGE_S}`,
          "x-canvas-seq": String(tile.seq),
          "x-canvas-epoch": String(tile.epoch),
          "x-tile-version": String(tile.version),
        };
        if (etagMatches(req.headers["if-none-match"], etag)) {
          res.writeHead(304, headers).end();
          return;
        }
        res.writeHead(200, { ...headers, "content-type": "image/png", "content-length": tile.png.length });
        res.end(req.method === "HEAD" ? undefined : tile.png);
      },
      (err: unknown) => {
        if (err instanceof ConnectError && err.code === Code.NotFound) {
          res.writeHead(404, { "content-type": "text/plain" }).end(`canvas "${canvasId}" does not exist\n`);
          return;
        }
        if (err instanceof StoreUnavailableError) {
          res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("the canvas storage is unavailable; retry shortly\n");
          return;
        }
        deps.logger.error({ err, path }, "reading a tile failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
      },
    );
    return true;
  };
}
