import WebSocket from "ws";
import { decodeServerFrame, encodeClientFrame, helloFrame, watchFrame } from "../../protocol/frame-codec.js";
import { tilesOfRect } from "../../protocol/tile-grid.js";

/** Clients that join and then never read: what a stalled browser tab looks like to a gateway. */
export interface SlowReaders {
  /** How many the gateways closed (e.g. 4001 slow consumer), by close code. */
  closedByServer(): Record<string, number>;
  stop(): void;
}

/**
 * Opens `count` WebSocket clients spread over `urls`, joins the default canvas (ours) or just
 * connects (legacy), then stops reading their sockets, so the kernel buffers fill and the
 * gateway's send buffers grow. The gateways must keep serving everyone else at full speed.
 */
export async function openSlowReaders(urls: string[], count: number, target: string): Promise<SlowReaders> {
  const closes: Record<string, number> = {};
  const sockets: WebSocket[] = [];
  let stopping = false;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      new Promise<void>((resolve, reject) => {
        const ws = new WebSocket(urls[i % urls.length]!, { perMessageDeflate: false });
        sockets.push(ws);
        ws.once("error", reject);
        ws.once("open", () => {
          if (target === "ours") {
            ws.send(encodeClientFrame(helloFrame("", `slow-${i}`, 0n, 0n)));
            // Protocol 2: watch the whole canvas, so every batch is queued for this reader.
            ws.once("message", (data: Buffer) => {
              const decoded = decodeServerFrame(data);
              if (!decoded.ok || decoded.frame.frame.case !== "welcome") return;
              const { width, height } = decoded.frame.frame.value;
              ws.send(encodeClientFrame(watchFrame(tilesOfRect(width, height, 0, { x: 0, y: 0, width, height }))));
            });
          }
          // Let the Welcome arrive, then stop reading for good.
          setTimeout(() => {
            ws.pause();
            resolve();
          }, 200);
        });
        ws.on("close", (code) => {
          if (!stopping) closes[code] = (closes[code] ?? 0) + 1;
        });
      }),
    ),
  );
  return {
    closedByServer: () => ({ ...closes }),
    stop() {
      stopping = true;
      for (const ws of sockets) ws.terminate();
    },
  };
}
