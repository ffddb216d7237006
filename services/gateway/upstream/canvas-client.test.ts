import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { createCanvasClient, createCanvasTransport, isRetryable } from "./canvas-client.js";

const servers: http2.Http2Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

describe("canvas client transport errors", () => {
  it("reports a SetPixels whose HTTP/2 session is cut mid-call (a killed replica) as a retryable Canceled", async () => {
    // A server that takes the call and then drops the whole session, as a dying process does.
    const server = http2.createServer();
    servers.push(server);
    server.on("stream", (stream) => setTimeout(() => stream.session?.destroy(), 20));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const client = createCanvasClient(createCanvasTransport(`http://127.0.0.1:${port}`));
    const err = await client.setPixels("default", [{ x: 1, y: 1, color: 1 }], "", 2_000).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.Canceled);
    expect(isRetryable(err)).toBe(true);
  });

  it("treats a Canceled caused by our own abort as final", () => {
    const ours = new AbortController();
    ours.abort();
    expect(isRetryable(new ConnectError("aborted", Code.Canceled), ours.signal)).toBe(false);
    expect(isRetryable(new ConnectError("bad pixel", Code.InvalidArgument))).toBe(false);
  });
});
