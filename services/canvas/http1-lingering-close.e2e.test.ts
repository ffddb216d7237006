import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../tools/process/free-port.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { testSessionKeys } from "../../tools/process/session.js";
import { MAX_REQUEST_BYTES } from "./canvas-server.js";
import { LINGER_MAX_BYTES } from "./http1-lingering-close.js";

// A client still uploading a body the canvas service answers without reading (above the 1 MiB
// limit, or a WritePixels over HTTP/1.1) must get that answer on /api even when the connection
// closes after it. The fuzz suite's /api input #284 (seed 0x5eedf022) is such a request: before the
// server read the rest of the body before closing, a client that had not read its answer by the
// time its next write hit the closed socket (fetch under CPU load) got a reset and no answer at all.

const ENTRY = "services/canvas/main.js";
/** The body of the fuzzer's "proto body above the 1 MiB limit" inputs: 1 KiB above the limit. */
const ABOVE_LIMIT = Buffer.alloc(MAX_REQUEST_BYTES + 1024, 0x0a);
/** How the client uploads: the head and a first piece, a pause in which the server answers, then the rest piece by piece. */
const UPLOAD = { pieceBytes: 64 * 1024, firstPauseMs: 300, pieceIntervalMs: 10 };
/** Longest a request may take, upload and answer, before the test gives up on it. */
const REQUEST_TIMEOUT_MS = 15_000;

/** An HTTP/1.1 answer as read off the wire. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What became of one slow upload: the answer, or the socket error that took its place. */
interface Outcome {
  answer?: RawAnswer;
  error?: string;
  bodyBytesSent: number;
}

/**
 * POSTs `body` over a raw HTTP/1.1 connection the way a busy client does: the head and a first
 * piece, a pause, then the rest in throttled pieces, reading nothing until all of it has been
 * written (a client still uploading has not read its answer yet); then reads to the end of the
 * connection. A socket error before that (the server closed on the unread upload and the next
 * write met a reset) is the outcome instead of an answer.
 */
function slowPost(baseUrl: string, path: string, headers: Record<string, string>, body: Buffer): Promise<Outcome> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(url.port), url.hostname);
    socket.pause();
    const received: Buffer[] = [];
    let sent = 0;
    let settled = false;
    const settle = (outcome: Omit<Outcome, "bodyBytesSent">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...outcome, bodyBytesSent: sent });
    };
    const timer = setTimeout(() => settle({ error: `no answer within ${REQUEST_TIMEOUT_MS} ms` }), REQUEST_TIMEOUT_MS);
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", (err: NodeJS.ErrnoException) => settle({ error: `${err.code ?? ""} ${err.message}`.trim() }));
    socket.on("end", () => {
      try {
        settle({ answer: parseAnswer(Buffer.concat(received)) });
      } catch (err) {
        settle({ error: (err as Error).message });
      }
    });
    const head = Object.entries({ host: url.host, ...headers, "content-length": String(body.length) }).map(([k, v]) => `${k}: ${v}\r\n`).join("");
    socket.write(`POST ${path} HTTP/1.1\r\n${head}\r\n`);
    const next = () => {
      if (settled || socket.destroyed) return;
      if (sent >= body.length) {
        socket.resume();
        return;
      }
      const piece = body.subarray(sent, sent + UPLOAD.pieceBytes);
      socket.write(piece);
      sent += piece.length;
      setTimeout(next, sent === piece.length ? UPLOAD.firstPauseMs : UPLOAD.pieceIntervalMs);
    };
    next();
  });
}

/** Status, headers and body (chunked or not) of one HTTP/1.1 response. */
function parseAnswer(raw: Buffer): RawAnswer {
  const text = raw.toString("latin1");
  const split = text.indexOf("\r\n\r\n");
  if (split < 0) throw new Error(`the connection ended without a whole answer (${raw.length} bytes: ${JSON.stringify(text.slice(0, 120))})`);
  const [statusLine = "", ...lines] = text.slice(0, split).split("\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).trim().toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  let rest = text.slice(split + 4);
  let body = "";
  if (headers["transfer-encoding"] === "chunked") {
    for (;;) {
      const eol = rest.indexOf("\r\n");
      const size = parseInt(rest.slice(0, eol), 16);
      if (!(size > 0)) break;
      body += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
  } else {
    body = rest.slice(0, Number(headers["content-length"] ?? rest.length));
  }
  return { status, headers, body: Buffer.from(body, "latin1").toString("utf8") };
}

describe("HTTP/1.1 /api: an answer given before the request body was read reaches a client still uploading (real canvas process)", () => {
  let dataDir: string;
  let canvas: ServiceProcess;
  let httpUrl: string;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, "dist", ENTRY))) throw new Error("dist/ is missing: run `npx tsc -p tsconfig.build.json` first (npm test does)");
    dataDir = mkdtempSync(join(tmpdir(), "pixel-linger-e2e-"));
    const grpcPort = await freePort();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    canvas = await startService("canvas-e2e-linger", ENTRY, {
      HOST: "127.0.0.1", CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), DATA_DIR: dataDir, CANVAS_WIDTH: "16", CANVAS_HEIGHT: "16", SESSION_KEYS: testSessionKeys(),
    }, `${httpUrl}/readyz`);
  });
  afterAll(async () => {
    await canvas?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers a WritePixels with a body above 1 MiB (fuzz /api input #284) with 505, Connection: close, while the client is still uploading", async () => {
    const outcome = await slowPost(httpUrl, "/api/pixel.v1.CanvasService/WritePixels", { "content-type": "application/proto", "connect-protocol-version": "1" }, ABOVE_LIMIT);
    expect(outcome.error).toBeUndefined();
    expect(outcome.bodyBytesSent).toBe(ABOVE_LIMIT.length);
    expect(outcome.answer).toMatchObject({ status: 505, headers: { connection: "close" }, body: "" });
  });

  it("answers a SetPixels above the 1 MiB limit on a connection the client asked to close with 429 resource_exhausted", async () => {
    const outcome = await slowPost(httpUrl, "/api/pixel.v1.CanvasService/SetPixels", { "content-type": "application/proto", "connect-protocol-version": "1", connection: "close" }, ABOVE_LIMIT);
    expect(outcome.error).toBeUndefined();
    expect(outcome.answer?.status).toBe(429);
    expect(outcome.answer?.headers.connection).toBe("close");
    expect(JSON.parse(outcome.answer?.body ?? "{}")).toEqual({ code: "resource_exhausted", message: `message size ${ABOVE_LIMIT.length} is larger than configured readMaxBytes ${MAX_REQUEST_BYTES}` });
  });

  it(`still closes on a client that goes on uploading past the ${LINGER_MAX_BYTES / 1024 / 1024} MiB it drains`, async () => {
    const huge = Buffer.alloc(LINGER_MAX_BYTES + 2 * 1024 * 1024, 0x0a);
    const outcome = await slowPost(httpUrl, "/api/pixel.v1.CanvasService/WritePixels", { "content-type": "application/proto", "connect-protocol-version": "1" }, huge);
    expect(outcome.error).toMatch(/EPIPE|ECONNRESET/);
    expect(outcome.bodyBytesSent).toBeLessThan(huge.length);
  });

  it("still serves the next call: /readyz answers", async () => {
    expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
  });
});
