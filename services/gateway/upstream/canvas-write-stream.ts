import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Client } from "@connectrpc/connect";
import { CanvasService, WritePixelsRequestSchema, type WritePixelsRequest, type WritePixelsResponse } from "../../../gen/pixel/v1/canvas_pb.js";
import type { PixelLike } from "../../../protocol/pixel-validation.js";
import type { AuthorRun, CanvasClient, StoredWrite } from "./canvas-client.js";

interface Pending {
  resolve(value: StoredWrite): void;
  reject(error: ConnectError): void;
  timer: NodeJS.Timeout;
}

/** An async iterable fed by push(); the request side of one WritePixels stream. */
class RequestQueue implements AsyncIterable<WritePixelsRequest> {
  private items: WritePixelsRequest[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: WritePixelsRequest): void {
    if (this.closed) return;
    this.items.push(item);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WritePixelsRequest> {
    for (;;) {
      if (this.items.length > 0) {
        const batch = this.items;
        this.items = [];
        yield* batch;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** One open WritePixels stream and the calls waiting for their answers on it. */
class WriteStream {
  readonly requests = new RequestQueue();
  readonly pending = new Map<bigint, Pending>();
  readonly abort = new AbortController();
  dead = false;
  /** Set when the service has no WritePixels (an older canvas service). */
  unimplemented = false;

  constructor(
    client: Client<typeof CanvasService>,
    private readonly onEnd: (stream: WriteStream) => void,
  ) {
    void this.read(client.writePixels(this.requests, { signal: this.abort.signal }));
  }

  /** Ends the stream: every call still waiting fails with `error` (retryable unless it says otherwise). */
  end(error: ConnectError): void {
    if (this.dead) return;
    this.dead = true;
    this.onEnd(this);
    this.requests.close();
    this.abort.abort();
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      this.pending.delete(id);
      call.reject(error);
    }
  }

  private async read(responses: AsyncIterable<WritePixelsResponse>): Promise<void> {
    try {
      for await (const res of responses) this.settle(res);
      this.end(new ConnectError("the canvas service ended the WritePixels stream", Code.Unavailable));
    } catch (err) {
      const error = ConnectError.from(err);
      if (error.code === Code.Unimplemented) {
        // Nothing was stored: the waiting calls are retried, and go unary.
        this.unimplemented = true;
        this.end(new ConnectError("the canvas service has no WritePixels; retrying with SetPixels", Code.Unavailable));
        return;
      }
      this.end(error);
    }
  }

  private settle(res: WritePixelsResponse): void {
    const call = this.pending.get(res.id);
    // A call that timed out was already answered with DeadlineExceeded.
    if (call === undefined) return;
    this.pending.delete(res.id);
    clearTimeout(call.timer);
    if (res.result.case === "stored") call.resolve({ seq: res.result.value.seq, epoch: res.result.value.epoch, results: res.result.value.results });
    else if (res.result.case === "error") call.reject(new ConnectError(res.result.value.message, res.result.value.code as Code));
    else call.reject(new ConnectError(`WritePixels answered request ${res.id} without a result`, Code.Internal));
  }
}

/**
 * SetPixels over one long-lived WritePixels stream per process instead of one HTTP/2 stream per
 * call: no headers, deadline or stream set-up per batch, which is most of connect-node's cost per
 * unary call. The stream opens on the first call and again after it fails; when it fails, every
 * call waiting on it is rejected with the stream's error (Canceled, Unavailable: the write batcher
 * retries those on the next stream). A call that gets no answer within its timeout fails with
 * DeadlineExceeded and also ends the stream, since a stream that stopped answering (a peer gone
 * without a FIN) would otherwise swallow every later call. A canvas service without WritePixels
 * (Unimplemented, e.g. an older version during a rolling upgrade) makes it fall back to unary SetPixels.
 */
export class CanvasWriteStream {
  private stream: WriteStream | undefined;
  private nextId = 1n;
  private unimplemented = false;
  private closed = false;

  /** `unary` is the plain SetPixels call, used once the service turns out to have no WritePixels. */
  constructor(
    private readonly client: Client<typeof CanvasService>,
    private readonly unary: CanvasClient["setPixels"],
  ) {}

  setPixels(canvasId: string, pixels: PixelLike[], author: string, timeoutMs: number, authors: AuthorRun[] = []): Promise<StoredWrite> {
    if (this.closed) return Promise.reject(new ConnectError("the gateway is shutting down", Code.Canceled));
    if (this.unimplemented) return this.unary(canvasId, pixels, author, timeoutMs, authors);
    if (this.stream === undefined || this.stream.dead) this.stream = new WriteStream(this.client, (ended) => this.ended(ended));
    const stream = this.stream;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stream.pending.delete(id);
        reject(new ConnectError(`the canvas service did not answer within ${timeoutMs} ms`, Code.DeadlineExceeded));
        stream.end(new ConnectError("an earlier call on this WritePixels stream timed out; the stream was closed", Code.Unavailable));
      }, timeoutMs);
      stream.pending.set(id, { resolve, reject, timer });
      stream.requests.push(create(WritePixelsRequestSchema, { id, request: { canvasId, pixels, author, authors } }));
    });
  }

  /** Closes the stream; calls still waiting fail with Canceled. */
  close(): void {
    this.closed = true;
    this.stream?.end(new ConnectError("the gateway is shutting down", Code.Canceled));
    this.stream = undefined;
  }

  private ended(stream: WriteStream): void {
    if (this.stream === stream) this.stream = undefined;
    if (stream.unimplemented) this.unimplemented = true;
  }
}
