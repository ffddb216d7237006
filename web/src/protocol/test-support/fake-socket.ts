import { create } from "@bufbuild/protobuf";
import { ClientFrameSchema, type ClientFrame, type ServerFrame } from "../../../../gen/pixel/v1/realtime_pb.js";
import { decodeClientFrame, encodeServerFrame } from "../../../../protocol/frame-codec.js";
import type { SocketFactory, SocketHandlers } from "../socket.js";

/** One socket opened through a FakeSocketServer; the test plays the gateway's side of it. */
export class FakeSocket {
  /** Frames the client sent, decoded. */
  readonly sent: ClientFrame[] = [];
  /** The close the client asked for, if any. */
  closedByClient: { code: number | undefined; reason: string | undefined } | undefined;
  private closed = false;

  constructor(
    readonly url: string,
    private readonly handlers: SocketHandlers,
  ) {}

  /** Completes the handshake. */
  open(): void {
    this.handlers.onOpen();
  }

  /** Delivers a server frame to the client. */
  deliver(frame: ServerFrame): void {
    this.deliverRaw(encodeServerFrame(frame));
  }

  /** Delivers raw bytes or text, as a broken server might. */
  deliverRaw(data: Uint8Array | string): void {
    if (!this.closed) this.handlers.onMessage(data);
  }

  /** Closes from the server's side (or the network's). */
  closeFromServer(code: number, reason = ""): void {
    if (this.closed) return;
    this.closed = true;
    this.handlers.onClose(code, reason);
  }

  /** The cases of the frames sent so far, e.g. ["hello", "place"]. */
  sentCases(): Array<ClientFrame["frame"]["case"]> {
    return this.sent.map((f) => f.frame.case);
  }

  /** Records bytes the client sent. */
  receiveFromClient(bytes: Uint8Array): void {
    const decoded = decodeClientFrame(bytes);
    if (!decoded.ok) throw new Error(decoded.message);
    this.sent.push(create(ClientFrameSchema, { frame: decoded.frame }));
  }

  /** Records the client's close. */
  markClosedByClient(code: number | undefined, reason: string | undefined): void {
    this.closedByClient = { code, reason };
    this.closed = true;
  }
}

/** A SocketFactory whose sockets the test drives by hand, for logic tests of CanvasClient. */
export class FakeSocketServer {
  /** Every socket opened, oldest first. */
  readonly sockets: FakeSocket[] = [];

  /** The factory to give CanvasClient. */
  readonly factory: SocketFactory = (url, handlers) => {
    const socket = new FakeSocket(url, handlers);
    this.sockets.push(socket);
    return {
      send: (data) => socket.receiveFromClient(data),
      close: (code, reason) => socket.markClosedByClient(code, reason),
    };
  };

  /** The newest socket; throws when none was opened. */
  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error("no socket was opened");
    return socket;
  }
}
