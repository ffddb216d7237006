import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { WebSocket } from "ws";
import { ClientFrameSchema, CloseCode, ErrorCode, ServerFrameSchema, type Welcome } from "../../gen/pixel/v1/realtime_pb.js";
import { tileGridSize } from "../../protocol/tile-grid.js";
import { PIXEL_PROTOCOL } from "../../protocol/tile-watch.js";
import type { ExpectedCanvas } from "./expected-canvas.js";
import { OUTCOME, type FuzzRecord } from "./fuzz-record.js";
import { closeName, describeExpectation } from "./answer-text.js";
import { describeInput, type WsInput } from "./ws-input.js";
import type { Expectation } from "./ws-oracle.js";

/** How long every sent frame may wait for its answer. */
export const ANSWER_TIMEOUT_MS = 10_000;

/** Codes a valid Place may be refused with without anything stored (documented as retryable). */
const RETRYABLE = new Set([ErrorCode.RATE_LIMITED, ErrorCode.UNAVAILABLE, ErrorCode.OVERLOADED]);

/** Where fuzzing sockets connect: the gateway's port and the session every socket places with. */
export interface WsEndpoint {
  port: number;
  /** `pp_session=<token>` for the upgrade's Cookie header: without a session a Place is refused. */
  cookie: string;
}

/** A sent frame still waiting for its answer. */
interface Waiting {
  input: WsInput;
  expect: Expectation;
}

/** A frame followed by a bracketing Ping: every in-order answer before that Ping's Pong is its answer. */
interface Bracketed extends Waiting {
  nonce: bigint;
  /** The in-order answers (Errors without a waiting client_seq, Pongs) received for it so far. */
  answers: { text: string; fits: (e: Expectation) => boolean; outcome: number }[];
}

/** Nonces of bracketing Pings: far from anything the generator writes, so a fuzzed Ping cannot pass for one. */
const BRACKET_NONCE_BASE = 0xb7ac_0000_0000_0000n;
/** After every frame is bracketed and every Ack is in, how long a refused-but-unanswered Place may still be acked. */
const LATE_ACK_GRACE_MS = 1_000;

/** Where a FuzzSocket reports. */
export interface SocketSinks {
  record: FuzzRecord;
  canvas: ExpectedCanvas;
  /** One byte per input index: how it was answered (see OUTCOME). */
  outcomes: Uint8Array;
}

/**
 * One fuzzing WebSocket. Each frame is followed by a Ping: the gateway handles a socket's frames
 * in order and answers refusals at once, so the Errors and Pongs that arrive before that Ping's
 * Pong are exactly the frame's own answer, whatever Acks arrive in between. Valid Places then
 * wait for their Ack by client_seq. Every mismatch is recorded as a failure naming the frame.
 */
export class FuzzSocket {
  /** Bracketed frames whose Ping has not come back, oldest first. */
  private readonly brackets: Bracketed[] = [];
  /** Valid Places waiting for their Ack, by client_seq. */
  private readonly acks = new Map<number, Waiting>();
  /** Places that must be refused but got no in-order answer: an Ack for one means it was stored. */
  private readonly unanswered = new Map<number, Waiting>();
  /** Every client_seq a Place of this socket used, so none is reused. */
  readonly usedSeqs = new Set<number>();
  private bracketCount = 0n;
  private helloWaiting = false;
  /** Our own Watch (after the Hello) waits for its Watching; a fuzzed Watch's is an in-order answer. */
  private watchWaiting = false;
  private welcomeOptional = false;
  private welcome: Welcome | undefined;
  private wakeUp: (() => void) | undefined;
  closed: { code: number; reason: string } | undefined;
  /** Close codes this socket may be closed with, set by a scenario that provokes one. */
  allowedCloses = new Set<number>();

  private constructor(private readonly ws: WebSocket, private readonly sinks: SocketSinks, readonly name: string, private readonly check: "answers" | "violations") {
    ws.on("message", (data: Buffer) => this.receive(data));
    ws.on("close", (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
      this.wakeUp?.();
    });
    ws.on("error", () => undefined);
  }

  /** Opens a socket to the gateway's /ws, with the endpoint's session. */
  static async open(endpoint: WsEndpoint, sinks: SocketSinks, name: string, check: "answers" | "violations" = "answers"): Promise<FuzzSocket> {
    const ws = new WebSocket(`ws://127.0.0.1:${endpoint.port}/ws`, { perMessageDeflate: false, headers: { cookie: endpoint.cookie } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new FuzzSocket(ws, sinks, name, check);
  }

  /** Frames sent and not fully answered yet. */
  get waiting(): number {
    return this.brackets.length + this.acks.size + (this.helloWaiting ? 1 : 0) + (this.watchWaiting ? 1 : 0);
  }

  /**
   * Joins `canvasId` (pixel protocol 2) and watches every level-0 tile of it, as a client drawing
   * anywhere on it would; returns the Welcome (undefined, with a failure recorded, when the Welcome
   * or the Watching did not come).
   */
  async hello(canvasId: string): Promise<Welcome | undefined> {
    this.helloWaiting = true;
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId, name: this.name.slice(0, 32), protocol: PIXEL_PROTOCOL } } })));
    await this.settle(`${this.name}: Hello`);
    const welcome = this.welcome;
    if (!welcome) {
      this.sinks.record.fail(this.check, `${this.name}: no Welcome for a valid Hello${this.closed ? ` (closed with ${closeName(this.closed.code)})` : ""}`);
      return undefined;
    }
    const { columns, rows } = tileGridSize(welcome.width, welcome.height);
    const tiles = Array.from({ length: columns * rows }, (_, i) => ({ tx: i % columns, ty: Math.floor(i / columns) }));
    this.watchWaiting = true;
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "watch", value: { tiles } } })));
    return (await this.settle(`${this.name}: Watch of every tile`)) ? welcome : undefined;
  }

  /**
   * Sends one input expecting `expect`, then its bracketing Ping. `bracket: false` sends it alone,
   * for sequences a Ping would change (frames pipelined behind a Hello, a frame right behind the
   * one that provokes a close): a Place expecting an Ack waits for it by client_seq; any other
   * unbracketed frame takes the in-order answers after the last bracketed one, so it must be the
   * last in-order frame before the socket closes. A binary input may be split over `fragments`.
   */
  send(input: WsInput, expect: Expectation, options: { bracket?: boolean; fragments?: number } = {}): void {
    const { bracket = true, fragments = 1 } = options;
    if (expect.kind === "ack") this.acks.set(expect.clientSeq, { input, expect });
    else if (!bracket) {
      // Judged at settle by the in-order answers that follow the last bracketed frame: so only
      // the last such frame before a close may go unbracketed.
      this.brackets.push({ input, expect, nonce: -1n, answers: [] });
    }
    if (fragments <= 1 || input.bytes.length < fragments) {
      this.ws.send(input.bytes, { binary: input.isBinary });
    } else {
      const size = Math.ceil(input.bytes.length / fragments);
      for (let at = 0; at < input.bytes.length; at += size) {
        this.ws.send(input.bytes.subarray(at, at + size), { binary: input.isBinary, fin: at + size >= input.bytes.length });
      }
    }
    if (!bracket) return;
    const nonce = BRACKET_NONCE_BASE + this.bracketCount++;
    this.brackets.push({ input, expect, nonce, answers: [] });
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "ping", value: { nonce } } })));
  }

  /** Sends a Hello whose Welcome may or may not come (the socket is about to be closed). */
  sendHelloWithoutWaiting(canvasId: string): void {
    this.welcomeOptional = true;
    this.ws.send(toBinary(ClientFrameSchema, create(ClientFrameSchema, { frame: { case: "hello", value: { canvasId, protocol: PIXEL_PROTOCOL } } })));
  }

  /** Sends raw bytes with no expectation (for frames whose only answer is a close). */
  sendRaw(bytes: Uint8Array): void {
    this.ws.send(bytes, { binary: true });
  }

  /**
   * Waits until every sent frame is answered, the socket closes, or the timeout passes; records a
   * failure for each frame left without its answer. Returns true when every frame got its answer.
   */
  async settle(what: string, timeoutMs = ANSWER_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    await this.until(() => this.waiting === 0, deadline);
    if (this.waiting === 0 && this.unanswered.size > 0) await this.until(() => false, Math.min(deadline, Date.now() + LATE_ACK_GRACE_MS));
    // A close the scenario provoked answers the frames behind it (a Place is then stored only if acked).
    const allowed = this.closed !== undefined && this.allowedCloses.has(this.closed.code);
    const why = this.closed ? `the socket was closed with ${closeName(this.closed.code)} (${this.closed.reason || "no reason"})` : `no answer within ${timeoutMs} ms`;
    let ok = true;
    // Frames cut off by an unexpected close are a consequence of whatever caused the close.
    const fail = (message: string) => {
      ok = false;
      this.sinks.record.fail(this.check, `${what}: ${message}`, this.closed ? 1 : 0);
    };
    for (const b of this.brackets) {
      // Its answer may have come before the close cut off the bracketing Pong.
      if (b.answers.length > 0) this.judge(b);
      else {
        this.sinks.outcomes[b.input.index] = OUTCOME.noAnswer;
        if (!allowed) fail(`${describeInput(b.input)} expected ${describeExpectation(b.expect)} but ${why}`);
      }
    }
    for (const w of this.acks.values()) {
      this.sinks.outcomes[w.input.index] = OUTCOME.noAnswer;
      if (!allowed) fail(`${describeInput(w.input)} expected ${describeExpectation(w.expect)} but ${why}`);
    }
    for (const w of this.unanswered.values()) fail(`${describeInput(w.input)} expected ${describeExpectation(w.expect)} but got no answer${this.closed ? ` before ${why}` : " at all"}`);
    if (this.helloWaiting && !allowed) fail(`the Hello expected a Welcome but ${why}`);
    if (this.watchWaiting && !allowed) fail(`the Watch expected a Watching but ${why}`);
    this.brackets.length = 0;
    this.acks.clear();
    this.unanswered.clear();
    this.helloWaiting = false;
    this.watchWaiting = false;
    return ok;
  }

  /** Closes normally and waits for the close to finish (or a second). */
  async close(): Promise<void> {
    if (!this.closed) this.ws.close(CloseCode.NORMAL, "fuzz session over");
    await this.until(() => this.closed !== undefined, Date.now() + 1_000);
    if (!this.closed) this.ws.terminate();
  }

  private async until(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        setTimeout(resolve, Math.max(1, Math.min(200, deadline - Date.now())));
      });
      this.wakeUp = undefined;
    }
  }

  private receive(data: Buffer): void {
    const { record } = this.sinks;
    let frame;
    let acks;
    try {
      ({ frame, acks } = fromBinary(ServerFrameSchema, data));
    } catch (err) {
      record.fail(this.check, `${this.name}: the gateway sent an undecodable ServerFrame (${(err as Error).message}): ${data.subarray(0, 32).toString("hex")}`);
      return;
    }
    switch (frame.case) {
      case "batch":
      case "batches":
      case "presence":
        break;
      case "welcome":
        record.count(record.answers, "ws.welcome");
        if (!this.helloWaiting && !this.welcomeOptional) record.fail(this.check, `${this.name}: a Welcome no Hello asked for`);
        this.helloWaiting = false;
        this.welcome = frame.value;
        break;
      case "watching":
        record.count(record.answers, "ws.watching");
        if (this.watchWaiting) this.watchWaiting = false;
        else this.inOrderAnswer(`Watching (seq ${frame.value.seq})`, (e) => e.kind === "watching", OUTCOME.watching);
        break;
      case "ack":
        record.count(record.answers, "ws.ack");
        this.ack(frame.value.clientSeq, frame.value.seq);
        break;
      case "error": {
        const { code, clientSeq, message } = frame.value;
        record.count(record.answers, `ws.error.${ErrorCode[code] ?? code}`);
        const late = clientSeq !== 0 ? this.unanswered.get(clientSeq) : undefined;
        if (late && late.expect.kind === "error") {
          // A Place that had to be refused at once was accepted, then refused after all (by the write).
          this.unanswered.delete(clientSeq);
          this.sinks.outcomes[late.input.index] = OUTCOME.errorBase + code;
          record.fail(this.check, `${this.name}: ${describeInput(late.input)} expected ${describeExpectation(late.expect)} but was accepted and only later refused with ${ErrorCode[code] ?? code}: ${message}`);
          break;
        }
        const placed = clientSeq !== 0 ? this.acks.get(clientSeq) : undefined;
        if (placed && (RETRYABLE.has(code) || !this.brackets.some((b) => b.input === placed.input))) {
          // An answer after the frame's bracket: a write that failed or was refused for load.
          this.acks.delete(clientSeq);
          this.sinks.outcomes[placed.input.index] = RETRYABLE.has(code) ? OUTCOME.refused : OUTCOME.errorBase + code;
          if (!RETRYABLE.has(code)) record.fail(this.check, `${this.name}: ${describeInput(placed.input)} is a valid Place but was refused with ${ErrorCode[code]}: ${message}`);
          break;
        }
        this.inOrderAnswer(`Error ${ErrorCode[code] ?? code} (client_seq ${clientSeq}: ${message})`, (e) => {
          if (e.kind !== "error") return false;
          return e.codes.includes(code) && (e.clientSeq === undefined || e.clientSeq === clientSeq);
        }, OUTCOME.errorBase + code);
        break;
      }
      case "pong": {
        const nonce = frame.value.nonce;
        const head = this.brackets[0];
        if (head && nonce === head.nonce) {
          this.brackets.shift();
          this.judge(head);
          break;
        }
        record.count(record.answers, "ws.pong");
        this.inOrderAnswer(`Pong ${nonce}`, (e) => e.kind === "pong" && e.nonce === nonce, OUTCOME.pong);
        break;
      }
      case undefined:
        if (acks.length === 0) record.fail(this.check, `${this.name}: the gateway sent a ServerFrame that sets no frame and carries no acks`);
        break;
    }
    // Protocol 3: acks coalesced into the frame, after what it carries.
    for (const a of acks) {
      record.count(record.answers, "ws.ack");
      this.ack(a.clientSeq, a.seq);
    }
    if (this.waiting === 0) this.wakeUp?.();
  }

  private inOrderAnswer(text: string, fits: (e: Expectation) => boolean, outcome: number): void {
    const head = this.brackets[0];
    if (!head) this.sinks.record.fail(this.check, `${this.name}: unsolicited ${text} (no frame was waiting for it)`);
    else head.answers.push({ text, fits, outcome });
  }

  /** Judges a frame once its bracketing Pong is back: its in-order answers are complete. */
  private judge(b: Bracketed): void {
    const { record, outcomes } = this.sinks;
    const [first, ...more] = b.answers;
    if (more.length > 0) record.fail(this.check, `${this.name}: ${describeInput(b.input)} got ${b.answers.length} answers: ${b.answers.map((a) => a.text).join("; ")}`);
    if (first) {
      outcomes[b.input.index] = first.outcome;
      if (b.expect.kind === "ack") {
        // A refusal for a valid Place comes back with its client_seq and is handled above; anything else here is wrong.
        this.acks.delete(b.expect.clientSeq);
        record.fail(this.check, `${this.name}: ${describeInput(b.input)} expected ${describeExpectation(b.expect)} but got ${first.text}`);
      } else if (!first.fits(b.expect)) {
        record.fail(this.check, `${this.name}: ${describeInput(b.input)} expected ${describeExpectation(b.expect)} but got ${first.text}`);
      }
      return;
    }
    switch (b.expect.kind) {
      case "ack":
        return;
      case "silent":
        outcomes[b.input.index] = OUTCOME.silent;
        return;
      case "error":
        // No refusal: the gateway accepted it. An Ack may follow (then it was stored); otherwise it got no answer at all.
        if ((b.expect.placeSeq ?? b.input.intendedSeq) !== undefined) this.unanswered.set((b.expect.placeSeq ?? b.input.intendedSeq) as number, b);
        else record.fail(this.check, `${this.name}: ${describeInput(b.input)} expected ${describeExpectation(b.expect)} but got no answer`);
        outcomes[b.input.index] = OUTCOME.noAnswer;
        return;
      default:
        outcomes[b.input.index] = OUTCOME.noAnswer;
        record.fail(this.check, `${this.name}: ${describeInput(b.input)} expected ${describeExpectation(b.expect)} but got no answer`);
    }
  }

  private ack(clientSeq: number, seq: bigint): void {
    const w = this.acks.get(clientSeq);
    if (w && w.expect.kind === "ack") {
      this.acks.delete(clientSeq);
      this.sinks.outcomes[w.input.index] = OUTCOME.ack;
      this.sinks.canvas.apply(Number(seq), w.expect.pixels);
      return;
    }
    const wrong = this.unanswered.get(clientSeq) ?? this.brackets.find((b) => b.expect.kind === "error" && (b.expect.placeSeq ?? b.input.intendedSeq) === clientSeq);
    if (wrong) {
      this.unanswered.delete(clientSeq);
      this.sinks.outcomes[wrong.input.index] = OUTCOME.ack;
      this.sinks.record.fail(this.check, `${this.name}: ${describeInput(wrong.input)} expected ${describeExpectation(wrong.expect)} but was ACKED (stored at seq ${seq})`);
      return;
    }
    this.sinks.record.fail(this.check, `${this.name}: Ack for client_seq ${clientSeq} (seq ${seq}) that no Place of this socket is waiting for`);
  }
}
