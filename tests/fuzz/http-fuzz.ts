import { connect as http2Connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from "node:http2";
import type { FuzzRecord } from "./fuzz-record.js";
import { generateHttpInput, type HttpInput, type HttpTarget } from "./http-input.js";

/** How long one request may take before it counts as an open stream and is cancelled. */
const REQUEST_TIMEOUT_MS = 3_000;
/**
 * How long the one retry of an /api request that got no HTTP answer in time may take. The retry
 * tells a request that was only slow while the fuzzer loaded the service from one that hangs.
 */
const RETRY_TIMEOUT_MS = 10_000;
/**
 * How often a batch is painted on every canvas the inputs can watch, while a phase runs. A watch
 * that parsed streams until its canvas changes, and connect-node sends a stream's headers with its
 * first message: the pulse makes every live watch answer (headers and a batch) within the timeout,
 * so "no answer" still means a hang.
 */
const WATCH_PULSE_MS = 500;
/** HTTP 501, Connect's status for code unimplemented. */
const HTTP_NOT_IMPLEMENTED = 501;
/** HTTP 505, connect-node's answer to a bidirectional stream over HTTP/1.1. */
const HTTP_VERSION_NOT_SUPPORTED = 505;
/** gRPC status INTERNAL. */
const GRPC_INTERNAL = 13;

/** How one HTTP fuzz phase runs. */
export interface HttpFuzzOptions {
  seed: number;
  target: HttpTarget;
  inputs: number;
  concurrency: number;
  /** The canvas service's HTTP/1.1 base URL (/api) or h2c base URL. */
  baseUrl: string;
  /** Paints one batch on every canvas an input can watch (see WATCH_PULSE_MS). */
  pulse: () => Promise<void>;
}

/** What came back for one request. */
interface Answer {
  status: number;
  /** grpc-status from headers, trailers or a gRPC-Web trailer frame. */
  grpcStatus: number | undefined;
  /** The Connect error code of a unary error body or a stream's end message. */
  connectCode: string | undefined;
  message: string;
  timedOut: boolean;
}

/**
 * Sends `inputs` malformed requests and checks each answer: on /api no HTTP 5xx (but 505 for the
 * bidirectional WritePixels, which HTTP/1.1 cannot carry, and 501 with code unimplemented) and no
 * Connect `internal` code; on h2c no gRPC status 13 (INTERNAL), no Connect `internal` code and no
 * HTTP 5xx (but 501 unimplemented). An /api request without an HTTP answer in time is retried once
 * with a longer timeout: it fails the check only if the retry gets no answer either.
 */
export async function runHttpFuzz(options: HttpFuzzOptions, record: FuzzRecord): Promise<void> {
  let next = 0;
  let session: ClientHttp2Session | undefined;
  const h2 = () => {
    if (!session || session.destroyed || session.closed) {
      session = http2Connect(options.baseUrl);
      session.on("error", () => undefined);
    }
    return session;
  };
  // Node's client keeps counting the unsent rest of an upload it cancelled against the session's
  // 10 MiB `maxSessionMemory`, and refuses new streams with ENHANCE_YOUR_CALM once it is used up:
  // after such a cancel the session is closed (its open streams finish) and the next request opens
  // a fresh one, so the fuzzer's own bookkeeping cannot fail later inputs.
  const retire = (stalled: ClientHttp2Session) => {
    record.count(record.answers, `${options.target}.session-closed-after-cancelled-upload`);
    stalled.close();
    if (session === stalled) session = undefined;
  };
  const worker = async () => {
    while (next < options.inputs) {
      const input = generateHttpInput(options.seed, next++, options.target);
      record.count(record.sent, `${options.target}.${input.protocol}`);
      let answer: Answer;
      try {
        answer = options.target === "api" ? await sendHttp1WithRetry(options.baseUrl, input, record) : await sendH2(h2(), input, retire);
      } catch (err) {
        record.fail(options.target === "api" ? "api5xx" : "h2cInternal", `${describeRequest(input)}: no HTTP answer (${(err as Error).message})`);
        continue;
      }
      judge(input, answer, record);
    }
  };
  let pulsing = true;
  const pulses = (async () => {
    while (pulsing) {
      await options.pulse().catch(() => record.count(record.answers, `${options.target}.pulse-failed`));
      await new Promise((r) => setTimeout(r, WATCH_PULSE_MS));
    }
  })();
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    pulsing = false;
    await pulses;
    session?.close();
  }
}

/** An /api request; without an HTTP answer in time, the same bytes once more, with a longer timeout. */
async function sendHttp1WithRetry(baseUrl: string, input: HttpInput, record: FuzzRecord): Promise<Answer> {
  try {
    return await sendHttp1(baseUrl, input, REQUEST_TIMEOUT_MS);
  } catch {
    record.count(record.answers, `${input.target}.${input.protocol}.retried-without-answer`);
    return await sendHttp1(baseUrl, input, RETRY_TIMEOUT_MS);
  }
}

function judge(input: HttpInput, answer: Answer, record: FuzzRecord): void {
  const key = `${input.target}.${input.protocol}`;
  record.count(record.answers, `${key}.http.${answer.timedOut ? "open-after-timeout" : answer.status}`);
  if (answer.grpcStatus !== undefined) record.count(record.answers, `${key}.grpc-status.${answer.grpcStatus}`);
  if (answer.connectCode !== undefined) record.count(record.answers, `${key}.connect-code.${answer.connectCode}`);
  const got = `HTTP ${answer.status}${answer.grpcStatus !== undefined ? ` grpc-status ${answer.grpcStatus}` : ""}${answer.connectCode ? ` code ${answer.connectCode}` : ""}: ${answer.message.slice(0, 160)}`;
  if (input.target === "api") {
    // HTTP/1.1 cannot carry a bidirectional stream: 505 is the precise answer for WritePixels there;
    // 501 is Connect's status for Unimplemented, ResetCanvas's documented answer without ADMIN_TOKEN.
    const bidiOverHttp1 = answer.status === HTTP_VERSION_NOT_SUPPORTED && input.method.endsWith("/WritePixels");
    const unimplemented = answer.status === HTTP_NOT_IMPLEMENTED && answer.connectCode === "unimplemented";
    if ((answer.status >= 500 && !bidiOverHttp1 && !unimplemented) || answer.connectCode === "internal") record.fail("api5xx", `${describeRequest(input)} → ${got}`);
    return;
  }
  const unimplemented = answer.status === HTTP_NOT_IMPLEMENTED && answer.connectCode === "unimplemented";
  if ((answer.status >= 500 && !unimplemented) || answer.grpcStatus === GRPC_INTERNAL || answer.connectCode === "internal") record.fail("h2cInternal", `${describeRequest(input)} → ${got}`);
}

/** An input in words: where it went, how, and its first bytes. */
function describeRequest(input: HttpInput): string {
  const head = Buffer.from(input.body.subarray(0, 40)).toString("hex").replace(/(..)/g, "$1 ").trim();
  const odd = Object.entries(input.headers).filter(([k]) => k !== "te" && k !== "connect-protocol-version").map(([k, v]) => `${k}: ${v}`).join(", ");
  return `${input.target} input #${input.index} (${input.label}) POST /${input.method} [${odd}] body ${input.body.length} bytes: ${head}${input.body.length > 40 ? " …" : ""}`;
}

async function sendHttp1(baseUrl: string, input: HttpInput, timeoutMs: number): Promise<Answer> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const res = await fetch(`${baseUrl}/api/${input.method}`, { method: "POST", headers: input.headers, body: input.body, signal: abort.signal });
    let body: Uint8Array;
    try {
      body = new Uint8Array(await res.arrayBuffer());
    } catch {
      return { status: res.status, grpcStatus: undefined, connectCode: undefined, message: "stream still open", timedOut: true };
    }
    return { status: res.status, grpcStatus: undefined, ...connectError(res.headers.get("content-type") ?? "", body), timedOut: false };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * One h2c request. The answer is read when the response ends, but the promise settles only when the
 * stream has closed, upload included: a worker then never has more than one upload in flight, and
 * the session never holds more unsent bodies than there are workers (Node's client counts them
 * against its 10 MiB `maxSessionMemory`, and refuses new streams with ENHANCE_YOUR_CALM beyond).
 */
function sendH2(session: ClientHttp2Session, input: HttpInput, onCancelledUpload: (session: ClientHttp2Session) => void): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: "POST", [constants.HTTP2_HEADER_PATH]: `/${input.method}`, ...input.headers });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let answer: Answer | undefined;
    const read = (timedOut: boolean) => {
      const body = new Uint8Array(Buffer.concat(chunks));
      const status = Number(headers[":status"] ?? 0);
      const raw = trailers["grpc-status"] ?? headers["grpc-status"] ?? grpcWebTrailer(input, body);
      const grpcStatus = raw === undefined ? undefined : Number(raw);
      const message = String(trailers["grpc-message"] ?? headers["grpc-message"] ?? "");
      const connect = input.protocol.startsWith("connect") ? connectError(String(headers["content-type"] ?? ""), body) : { connectCode: undefined, message };
      answer ??= { status, grpcStatus, ...connect, message: connect.message || message, timedOut };
    };
    // Also bounds the upload after an early answer: one the server never lets finish is cancelled.
    const timer = setTimeout(() => {
      const uploadUnfinished = !stream.writableFinished;
      stream.close(constants.NGHTTP2_CANCEL);
      if (uploadUnfinished) onCancelledUpload(session);
      read(true);
    }, REQUEST_TIMEOUT_MS);
    stream.on("response", (h) => (headers = h));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (chunk: Buffer) => {
      // Keep only the start of a big answer: enough to find an error or a trailer frame.
      if (size < 64 * 1024) chunks.push(chunk);
      size += chunk.length;
    });
    stream.on("end", () => read(false));
    stream.on("error", (err) => {
      if (headers[":status"]) read(false);
      else if (!answer) reject(err);
    });
    stream.on("close", () => {
      clearTimeout(timer);
      if (!answer && headers[":status"]) read(false);
      if (answer) resolve(answer);
      else reject(new Error(`stream closed without an answer (code ${stream.rstCode})`));
    });
    stream.end(input.body);
  });
}

/** grpc-status from a gRPC-Web body's trailer frame (flag 0x80), if there is one. */
function grpcWebTrailer(input: HttpInput, body: Uint8Array): string | undefined {
  if (input.protocol !== "grpc-web") return undefined;
  let pos = 0;
  while (pos + 5 <= body.length) {
    const flags = body[pos] as number;
    const len = new DataView(body.buffer, body.byteOffset + pos + 1, 4).getUint32(0);
    if (flags & 0x80) return /grpc-status:\s*(\d+)/i.exec(Buffer.from(body.subarray(pos + 5, pos + 5 + len)).toString("latin1"))?.[1];
    pos += 5 + len;
  }
  return undefined;
}

/** The Connect error in a unary JSON error body or a stream's end-of-stream message. */
function connectError(contentType: string, body: Uint8Array): { connectCode: string | undefined; message: string } {
  let text: string | undefined;
  if (contentType.startsWith("application/connect+")) {
    let pos = 0;
    while (pos + 5 <= body.length) {
      const flags = body[pos] as number;
      const len = new DataView(body.buffer, body.byteOffset + pos + 1, 4).getUint32(0);
      if (flags & 0x02) text = Buffer.from(body.subarray(pos + 5, pos + 5 + len)).toString("utf8");
      pos += 5 + len;
    }
  } else if (contentType.startsWith("application/json")) {
    text = Buffer.from(body).toString("utf8");
  }
  if (text === undefined) return { connectCode: undefined, message: "" };
  try {
    const parsed = JSON.parse(text) as { code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const error = parsed.error ?? parsed;
    return { connectCode: typeof error.code === "string" ? error.code : undefined, message: typeof error.message === "string" ? error.message : "" };
  } catch {
    return { connectCode: undefined, message: text.slice(0, 160) };
  }
}
