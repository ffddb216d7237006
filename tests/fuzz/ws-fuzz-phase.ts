import { ErrorCode } from "../../gen/pixel/v1/realtime_pb.js";
import { OUTCOME } from "./fuzz-record.js";
import { FuzzSocket, type SocketSinks, type WsEndpoint } from "./fuzz-socket.js";
import { inputPrng } from "../../tools/prng.js";
import { generateWsInput, type WsInput, type WsLayout } from "./ws-input.js";
import { expectAnswer, type CanvasRules, type Expectation } from "./ws-oracle.js";

/** Malformed frames a session sends at most: the gateway closes a socket at the 16th (1008). */
const SESSION_MAX_MALFORMED = 15;
/** Refused frames a session sends at most: the gateway closes a socket past 100 within 10 s (1008). */
const SESSION_MAX_REFUSED = 99;
/** Frames per session at most, so sockets churn and Hellos and closes get fuzzed traffic too. */
const SESSION_MAX_FRAMES = 200;
const STREAM_SESSION = 2;

/** How the random /ws phase runs. */
export interface WsFuzzOptions {
  seed: number;
  /** Inputs to generate (numbered 0 .. inputs-1); skipped ones count. */
  inputs: number;
  /** Sockets fuzzing at once. */
  concurrency: number;
  /** Frames sent before waiting for their answers. */
  burst: number;
  /** Share of sessions that never send a Hello (every Place and SetName must get NOT_JOINED). */
  unjoinedShare: number;
  gateway: WsEndpoint;
  canvasId: string;
  layout: WsLayout;
  rules: CanvasRules;
}

/**
 * Sends inputs 0 .. inputs-1 over many short sessions (joined ones, and a share that never joins),
 * each staying under the gateway's abuse limits so every frame must get its own answer.
 */
export async function runWsFuzz(options: WsFuzzOptions, sinks: SocketSinks): Promise<void> {
  let next = 0;
  let sessionNo = 0;
  const worker = async () => {
    let carry: WsInput | undefined;
    while (carry !== undefined || next < options.inputs) {
      const session = sessionNo++;
      const joined = !inputPrng(options.seed, session, STREAM_SESSION).chance(options.unjoinedShare);
      const socket = await FuzzSocket.open(options.gateway, sinks, `session ${session}${joined ? "" : " (never joined)"}`);
      if (joined && !(await socket.hello(options.canvasId))) {
        await socket.close();
        continue;
      }
      let malformed = 0;
      let refused = 0;
      let frames = 0;
      let inBurst = 0;
      while (frames < SESSION_MAX_FRAMES && !socket.closed) {
        const input: WsInput | undefined = carry ?? (next < options.inputs ? generateWsInput(options.seed, next++, options.layout) : undefined);
        carry = undefined;
        if (!input) break;
        const expect = expectAnswer(input.bytes, input.isBinary, joined, options.rules);
        const skip = skipReason(expect, socket);
        if (skip) {
          sinks.record.count(sinks.record.skipped, `ws: ${skip}`);
          sinks.outcomes[input.index] = OUTCOME.skipped;
          continue;
        }
        const isMalformed = expect.kind === "error" && expect.codes.length === 1 && expect.codes[0] === ErrorCode.MALFORMED_FRAME;
        const isRefused = expect.kind === "error" && !isMalformed;
        if ((isMalformed && malformed >= SESSION_MAX_MALFORMED) || (isRefused && refused >= SESSION_MAX_REFUSED)) {
          carry = input;
          break;
        }
        if (isMalformed) malformed++;
        if (isRefused) refused++;
        if (expect.kind === "ack" || (expect.kind === "error" && expect.placeSeq !== undefined)) {
          socket.usedSeqs.add(expect.kind === "ack" ? expect.clientSeq : (expect.placeSeq as number));
        }
        sinks.record.count(sinks.record.sent, `ws.${input.kind}`);
        socket.send(input, expect);
        frames++;
        if (++inBurst >= options.burst) {
          inBurst = 0;
          await socket.settle(socket.name);
        }
      }
      await socket.settle(socket.name);
      if (socket.closed) {
        sinks.record.fail("answers", `${socket.name}: the gateway closed the socket (${socket.closed.code} ${socket.closed.reason}) after ${malformed} malformed and ${refused} refused frames, below its documented limits (16 malformed, 100 refused in 10 s)`);
      }
      await socket.close();
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
}

/** Why an input is not sent on this socket, or undefined to send it. */
function skipReason(expect: Expectation, socket: FuzzSocket): string | undefined {
  if (expect.kind === "skip") return expect.why.split(" (")[0];
  const seq = expect.kind === "ack" ? expect.clientSeq : expect.kind === "error" ? expect.placeSeq : undefined;
  if (seq !== undefined && socket.usedSeqs.has(seq)) return "client_seq already used on this socket";
  return undefined;
}
