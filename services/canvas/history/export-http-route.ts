import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { CANVAS_ID_PATTERN, resolveCanvasId } from "../../shared/config.js";
import type { Logger } from "../../shared/logger.js";
import type { PlacementLog } from "../../history/placement-log.js";
import type { CanvasCatalog } from "../canvas-catalog.js";
import { StoreUnavailableError, type CanvasStore } from "../canvas-store.js";
import { checkRect, regionAt } from "./canvas-at.js";
import { encodeRgbPng } from "./history-routes.js";

/** Where PNG exports are served: `/api/export/<canvas>.png?seq=&time=&x=&y=&w=&h=`, under the API prefix. */
export const EXPORT_PATH_PREFIX = "/api/export/";

const EXPORT_PATH = /^\/api\/export\/([^/]+)\.png$/;
const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.InvalidArgument]: 400,
  [Code.OutOfRange]: 400,
  [Code.NotFound]: 404,
  [Code.FailedPrecondition]: 409,
  [Code.Unavailable]: 503,
};

/** A query parameter as a non-negative safe integer; undefined when absent; InvalidArgument otherwise. */
function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === "") return undefined;
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new ConnectError(`${name} must be a non-negative integer`, Code.InvalidArgument);
  return Number(raw);
}

/**
 * Serves ExportCanvas over plain GET, for a download link: the PNG of the whole canvas (or of
 * x, y, w, h) now, at `seq`, or at `time` (Unix ms), with `Content-Disposition: attachment;
 * filename="<canvas>-<epoch>-<seq>.png"` and X-Canvas-Seq / X-Canvas-Epoch. Returns a handler that
 * answers paths under EXPORT_PATH_PREFIX and returns false for any other path.
 */
export function createExportHttpHandler(deps: { catalog: CanvasCatalog; store: CanvasStore; log?: PlacementLog; logger: Logger }): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (!url.pathname.startsWith(EXPORT_PATH_PREFIX)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("exports are read with GET\n");
      return true;
    }
    const match = EXPORT_PATH.exec(url.pathname);
    const canvasId = match && resolveCanvasId(decodeURIComponent(match[1]!));
    if (!match || !CANVAS_ID_PATTERN.test(canvasId!)) {
      res.writeHead(400, { "content-type": "text/plain" }).end("export paths are /api/export/<canvas>.png?seq=&time=&x=&y=&w=&h=\n");
      return true;
    }
    const render = async () => {
      const q = url.searchParams;
      const canvas = await deps.catalog.resolve(canvasId!);
      const [x, y, w, h] = ["x", "y", "w", "h"].map((name) => intParam(q, name));
      const rect = checkRect(canvas, w === undefined && h === undefined && x === undefined && y === undefined ? undefined : { x: x ?? 0, y: y ?? 0, width: w ?? canvas.width - (x ?? 0), height: h ?? canvas.height - (y ?? 0) });
      const region = await regionAt(deps.store, deps.log, canvas, rect, { seq: intParam(q, "seq"), timeMs: intParam(q, "time") });
      return { png: encodeRgbPng(region.pixels, rect.width, rect.height), seq: region.seq, epoch: region.epoch };
    };
    render().then(
      ({ png, seq, epoch }) => {
        res.writeHead(200, {
          "content-type": "image/png",
          "content-length": png.length,
          "content-disposition": `attachment; filename="${canvasId}-${epoch}-${seq}.png"`,
          "cache-control": "no-store",
          "x-canvas-seq": String(seq),
          "x-canvas-epoch": String(epoch),
        });
        res.end(req.method === "HEAD" ? undefined : png);
      },
      (err: unknown) => {
        const known = err instanceof ConnectError ? HTTP_STATUS[err.code] : undefined;
        if (known !== undefined) {
          res.writeHead(known, { "content-type": "text/plain" }).end(`${(err as ConnectError).rawMessage}\n`);
          return;
        }
        if (err instanceof StoreUnavailableError) {
          res.writeHead(503, { "content-type": "text/plain", "retry-after": "1" }).end("the canvas storage is unavailable; retry shortly\n");
          return;
        }
        deps.logger.error({ err, path: url.pathname }, "exporting a canvas failed");
        res.writeHead(500, { "content-type": "text/plain" }).end("internal error\n");
      },
    );
    return true;
  };
}
