import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CanvasService } from "../../../gen/pixel/v1/canvas_pb.js";
import type { CanvasCopy } from "./divergence.js";

/** Reads the stored canvas the way a browser would: Connect over HTTP/1.1 at `<url>/api`, through the load balancer. */
export class CanvasReader {
  private readonly client: Client<typeof CanvasService>;

  constructor(baseUrl: string) {
    this.client = createClient(CanvasService, createConnectTransport({ baseUrl: `${baseUrl}/api`, httpVersion: "1.1" }));
  }

  /** GetCanvas of the default canvas, as a comparable copy named "GetCanvas". */
  async read(timeoutMs = 5_000): Promise<CanvasCopy> {
    const res = await this.client.getCanvas({ canvasId: "" }, { timeoutMs });
    return { name: "GetCanvas", seq: res.seq, epoch: res.epoch, width: res.width, height: res.height, pixels: res.pixels };
  }
}
