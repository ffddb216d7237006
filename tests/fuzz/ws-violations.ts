import { CloseCode, ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { closeName } from "./answer-text.js";
import { FuzzSocket, type SocketSinks, type WsEndpoint } from "./fuzz-socket.js";
import { colourOf, type WsInput, type WsLayout } from "./ws-input.js";
import { expectAnswer, type CanvasRules } from "./ws-oracle.js";
import { lenField, placeFrame, varintField } from "./wire-writer.js";

/** Largest frame the gateway accepts (64 KiB); one byte more closes with 1009. */
const MAX_FRAME_BYTES = 64 * 1024;

/** Every close code realtime.proto documents. */
const DOCUMENTED_CLOSES = Object.values(CloseCode).filter((c): c is CloseCode => typeof c === "number" && c !== CloseCode.UNSPECIFIED);

/** What the protocol-violation scenarios need. */
export interface ViolationContext {
  gateway: WsEndpoint;
  canvasId: string;
  layout: WsLayout;
  rules: CanvasRules;
  sinks: SocketSinks;
  /** The next free input number (each gets its own colour). */
  nextIndex(): number;
  /** Inputs made here, by number, for failure messages about the canvas. */
  handMade: Map<number, WsInput>;
}

/**
 * Protocol violations, each on its own socket: text frames, Place, SetName and Watch before Hello,
 * a Hello of protocol 1 (4006), a Watch of a tile outside the canvas, 16 malformed frames and 101 refused frames (1008) with a valid Place right behind them, a frame
 * of exactly 64 KiB and one of 64 KiB + 1 (1009), a fragmented Place, and frames pipelined behind a
 * Hello (within and beyond the 64 that may wait). A valid Place behind a close may be stored
 * only if it was acked: the final canvas comparison checks that.
 */
export async function runViolations(ctx: ViolationContext): Promise<void> {
  const { sinks } = ctx;
  const made = (label: string, bytes: Uint8Array, isBinary = true): WsInput => {
    const index = ctx.nextIndex();
    const input: WsInput = { index, kind: "boundary", label: `violation: ${label}`, bytes, isBinary, intendedSeq: undefined };
    ctx.handMade.set(index, input);
    sinks.record.count(sinks.record.sent, "ws.violation");
    return input;
  };
  // Each valid Place of a scenario paints its own pixel, counted from the bottom row up, so no later
  // Place can paint over one that was stored without an Ack.
  let placed = 0;
  const validPlace = (label: string) => {
    const index = ctx.nextIndex();
    const color = colourOf(index);
    const k = placed++;
    const bytes = placeFrame(index + 1, [{ x: k % ctx.layout.width, y: ctx.layout.height - 1 - Math.floor(k / ctx.layout.width), color }]);
    const input: WsInput = { index, kind: "boundary", label: `violation: ${label}`, bytes, isBinary: true, intendedSeq: index + 1 };
    ctx.handMade.set(index, input);
    sinks.record.count(sinks.record.sent, "ws.violation");
    return input;
  };
  const send = (socket: FuzzSocket, input: WsInput, joined: boolean, options: { bracket?: boolean; fragments?: number } = {}) =>
    socket.send(input, expectAnswer(input.bytes, input.isBinary, joined, ctx.rules), options);
  const open = (name: string) => FuzzSocket.open(ctx.gateway, sinks, `violation "${name}"`, "violations");
  const expectClose = async (socket: FuzzSocket, code: CloseCode, after: string) => {
    socket.allowedCloses.add(code);
    await socket.settle(socket.name);
    const deadline = Date.now() + 3_000;
    while (!socket.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (socket.closed?.code !== code) {
      sinks.record.fail("violations", `${socket.name}: expected close ${closeName(code)} after ${after}, got ${socket.closed ? `${closeName(socket.closed.code)} (${socket.closed.reason})` : "no close within 3 s"}`);
    }
    sinks.record.count(sinks.record.answers, `ws.close.${socket.closed?.code ?? "none"}`);
    await socket.close();
  };

  // Before Hello: Place, SetName and Watch are NOT_JOINED, text is MALFORMED_FRAME, Ping is answered.
  {
    const s = await open("frames before Hello");
    send(s, validPlace("valid Place before Hello"), false);
    send(s, made("SetName before Hello", Uint8Array.from(lenField(3, lenField(1, Buffer.from("early"))))), false);
    send(s, made("Watch of tile 0:0 before Hello", Uint8Array.from(lenField(5, lenField(1, [])))), false);
    send(s, made("text frame before Hello", Buffer.from("hello?"), false), false);
    send(s, made("Ping before Hello", Uint8Array.from(lenField(4, varintField(1, 42)))), false);
    await s.settle(s.name);
    await s.close();
  }
  // A page from before tiles (Hello.protocol 1) is told to reload: UNSUPPORTED_PROTOCOL, then 4006.
  {
    const s = await open("Hello of protocol 1");
    const hello = made("Hello of protocol 1", Uint8Array.from(lenField(1, [...lenField(1, Buffer.from(ctx.canvasId)), ...varintField(5, 1)])));
    s.send(hello, { kind: "error", codes: [ErrorCode.UNSUPPORTED_PROTOCOL], clientSeq: undefined, why: "Hello.protocol 1 is older than pixel protocol 2", placeSeq: undefined }, { bracket: false });
    await expectClose(s, CloseCode.PROTOCOL_TOO_OLD, "a Hello of protocol 1");
  }
  // A Watch naming a tile outside the canvas is INVALID_ARGUMENT; the socket stays joined and watching.
  {
    const s = await open("Watch of a tile outside the canvas");
    await s.hello(ctx.canvasId);
    send(s, made("Watch of tile columns:0", Uint8Array.from(lenField(5, lenField(1, varintField(1, ctx.rules.columns))))), true);
    send(s, validPlace("valid Place after the refused Watch"), true);
    await s.settle(s.name);
    await s.close();
  }
  // 16 malformed frames close with 1008; a valid Place right behind the 16th must not be stored unless acked.
  {
    const s = await open("16 malformed frames, then a valid Place");
    await s.hello(ctx.canvasId);
    for (let i = 0; i < 16; i++) send(s, made(`malformed ${i + 1} of 16`, Uint8Array.from([0xff, 0xff, 0xff, i])), true, { bracket: i < 15 });
    send(s, validPlace("valid Place right behind the 16th malformed frame"), true, { bracket: false });
    await expectClose(s, CloseCode.POLICY_VIOLATION, "16 malformed frames");
  }
  // More than 100 refused frames within 10 s close with 1008, with no Error for the 101st.
  {
    const s = await open("101 refused frames, then a valid Place");
    await s.hello(ctx.canvasId);
    for (let i = 0; i < 100; i++) send(s, made(`refused ${i + 1} of 100 (x = width)`, placeFrame(1_000_000 + i, [{ x: ctx.layout.width, y: 0, color: 1 }])), true);
    s.sendRaw(placeFrame(2_000_000, [{ x: ctx.layout.width, y: 0, color: 1 }]));
    send(s, validPlace("valid Place right behind the 101st refused frame"), true, { bracket: false });
    await expectClose(s, CloseCode.POLICY_VIOLATION, "101 refused frames");
  }
  // Exactly 64 KiB is a frame like any other (malformed here); one byte more closes with 1009.
  {
    const s = await open("64 KiB frames");
    await s.hello(ctx.canvasId);
    send(s, made("garbage frame of exactly 64 KiB", new Uint8Array(MAX_FRAME_BYTES).fill(0xff)), true);
    await s.settle(s.name);
    s.sendRaw(new Uint8Array(MAX_FRAME_BYTES + 1).fill(0x12));
    await expectClose(s, CloseCode.MESSAGE_TOO_BIG, "a frame of 64 KiB + 1");
  }
  // A Place split over three WebSocket fragments is one message: acked.
  {
    const s = await open("fragmented Place");
    await s.hello(ctx.canvasId);
    send(s, validPlace("valid Place in 3 fragments"), true, { fragments: 3 });
    await s.settle(s.name);
    await s.close();
  }
  // Frames pipelined behind a Hello wait for the Welcome and are then answered in order.
  {
    const s = await open("10 Places pipelined behind Hello");
    const hello = s.hello(ctx.canvasId);
    for (let i = 0; i < 10; i++) send(s, validPlace(`Place ${i + 1} of 10 pipelined behind Hello`), true, { bracket: false });
    await hello;
    await s.settle(s.name);
    await s.close();
  }
  // 70 Places pipelined behind a Hello: each acked, or (if more than 64 had to wait for the Welcome)
  // the socket closed with 1008; either way none may be stored unless acked.
  {
    const s = await open("70 Places pipelined behind Hello");
    s.allowedCloses.add(CloseCode.POLICY_VIOLATION);
    // Its Welcome may never come (the socket may be closing), so the Hello itself expects nothing.
    s.sendHelloWithoutWaiting(ctx.canvasId);
    for (let i = 0; i < 70; i++) send(s, validPlace(`Place ${i + 1} of 70 pipelined behind Hello`), true, { bracket: false });
    await s.settle(s.name);
    await s.close();
  }
  // A text frame that is not UTF-8: MALFORMED_FRAME, or a close with a documented code.
  {
    const s = await open("text frame that is not UTF-8");
    await s.hello(ctx.canvasId);
    for (const code of DOCUMENTED_CLOSES) s.allowedCloses.add(code);
    send(s, made("text frame that is not UTF-8", Uint8Array.from([0xc3, 0x28, 0xff]), false), true);
    await s.settle(s.name);
    await s.close();
  }
}
