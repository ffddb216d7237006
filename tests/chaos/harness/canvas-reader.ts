import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CanvasService } from "../../../gen/pixel/v1/canvas_pb.js";
import type { CanvasCopy } from "./divergence.js";

/** Attempts of one read, and the pause between them. */
const READ_ATTEMPTS = 5;
const READ_RETRY_MS = 500;

/** Reads the stored canvas the way a browser would: Connect over HTTP/1.1 at `<url>/api`, through the load balancer. */
export class CanvasReader {
  private readonly client: Client<typeof CanvasService>;

  constructor(baseUrl: string) {
    this.client = createClient(CanvasService, createConnectTransport({ baseUrl: `${baseUrl}/api`, httpVersion: "1.1" }));
  }

  /**
   * GetCanvas of the default canvas, as a comparable copy named "GetCanvas". An Unavailable answer
   * (the balancer had no replica marked up for a moment: on a loaded machine a /readyz check can
   * time out) is retried a few times; a read is never what a suite measures.
   */
  async read(timeoutMs = 5_000): Promise<CanvasCopy> {
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.client.getCanvas({ canvasId: "" }, { timeoutMs });
        return { name: "GetCanvas", seq: res.seq, epoch: res.epoch, width: res.width, height: res.height, pixels: res.pixels };
      } catch (err) {
        if (attempt >= READ_ATTEMPTS || ConnectError.from(err).code !== Code.Unavailable) throw err;
        await new Promise((r) => setTimeout(r, READ_RETRY_MS));
      }
    }
  }
}
