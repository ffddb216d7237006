import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { encodeEnvelope, type UniversalHandler, type UniversalServerResponse } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";
import { trailerFlag, trailerParse, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";

/**
 * How connect-node words the failure to parse a binary message. Its `createBinarySerialization`
 * serves clients and servers alike and reports every parse failure as Internal (for a client, an
 * unreadable response is the server's fault); on a server the only binary message it parses is
 * the request, so there that failure is the caller's and must be InvalidArgument, as the JSON
 * equivalent already is.
 */
const PARSE_FAILURE_PREFIX = "parse binary:";

/**
 * How connect-node words an envelope whose compressed flag is set although the request named no
 * encoding (no `grpc-encoding`). Its envelope reader is shared with clients too and says Internal
 * (for a client, a server's bad envelope); on a server the malformed envelope is the caller's.
 */
const UNDECLARED_COMPRESSION_MESSAGE = "received compressed envelope, but do not know how to decompress";

const textDecoder = new TextDecoder();

function isParseFailure(code: string | null | undefined, message: string | null | undefined): boolean {
  const text = message ?? "";
  return (code === "internal" || code === String(Code.Internal)) && (text.startsWith(PARSE_FAILURE_PREFIX) || text === UNDECLARED_COMPRESSION_MESSAGE);
}

function decodeGrpcMessage(value: string | null): string {
  try {
    return decodeURIComponent(value ?? "");
  } catch {
    return value ?? "";
  }
}

/** A gRPC trailer set (gRPC's HTTP/2 trailers, gRPC-Web's trailer frame) with a parse failure turned into INVALID_ARGUMENT. */
function fixGrpcTrailer(trailer: Headers): boolean {
  if (!isParseFailure(trailer.get("grpc-status"), decodeGrpcMessage(trailer.get("grpc-message")))) return false;
  trailer.set("grpc-status", String(Code.InvalidArgument));
  return true;
}

async function readAll(body: AsyncIterable<Uint8Array> | undefined): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  if (body) for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Connect unary: the error is the whole JSON body of an HTTP 500. */
async function fixConnectUnary(res: UniversalServerResponse): Promise<UniversalServerResponse> {
  if (res.status !== codeToHttpStatus(Code.Internal)) return res;
  const bytes = await readAll(res.body);
  let error: { code?: string; message?: string } | undefined;
  try {
    error = JSON.parse(textDecoder.decode(bytes)) as { code?: string; message?: string };
  } catch {
    error = undefined;
  }
  if (!isParseFailure(error?.code, error?.message)) return { ...res, body: (async function* () { yield bytes; })() };
  const fixed = errorToJsonBytes(new ConnectError(error!.message!, Code.InvalidArgument), {});
  // The unary response declares its body's length, and the rewritten body has another one.
  const header = new Headers(res.header);
  header.set("content-length", String(fixed.byteLength));
  return { ...res, status: codeToHttpStatus(Code.InvalidArgument), header, body: (async function* () { yield fixed; })() };
}

/** gRPC: the status travels in HTTP/2 trailers, complete once the body has been read. */
function fixGrpc(res: UniversalServerResponse): UniversalServerResponse {
  const { body, trailer } = res;
  if (!body || !trailer) return res;
  return {
    ...res,
    body: (async function* () {
      yield* body;
      fixGrpcTrailer(trailer);
    })(),
  };
}

/** gRPC-Web: the status travels in the body's last frame, an uncompressed trailer envelope. */
function fixGrpcWeb(res: UniversalServerResponse): UniversalServerResponse {
  const { body } = res;
  if (!body) return res;
  return {
    ...res,
    body: (async function* () {
      for await (const chunk of body) {
        // transformJoinEnvelopes emits one envelope per chunk; only the trailer has exactly this flag.
        if (chunk[0] !== trailerFlag) {
          yield chunk;
          continue;
        }
        const trailer = trailerParse(chunk.subarray(5));
        yield fixGrpcTrailer(trailer) ? encodeEnvelope(trailerFlag, trailerSerialize(trailer)) : chunk;
      }
    })(),
  };
}

function answerUndecodableAsInvalidArgument(handler: UniversalHandler): UniversalHandler {
  const wrapped = async (req: Parameters<UniversalHandler>[0]): Promise<UniversalServerResponse> => {
    const res = await handler(req);
    const contentType = req.header.get("content-type") ?? "";
    if (/^application\/proto\b/.test(contentType)) return fixConnectUnary(res);
    if (/^application\/grpc-web(\+proto)?\b/.test(contentType)) return fixGrpcWeb(res);
    if (/^application\/grpc(\+proto)?\b/.test(contentType)) return fixGrpc(res);
    return res;
  };
  return Object.assign(wrapped, {
    protocolNames: handler.protocolNames,
    service: handler.service,
    method: handler.method,
    requestPath: handler.requestPath,
    allowedMethods: handler.allowedMethods,
    supportedContentType: handler.supportedContentType,
  });
}

/**
 * Routes whose undecodable binary requests (unparsable messages, envelopes flagged compressed with
 * no encoding named) are answered InvalidArgument (HTTP 400 on Connect, status 3 on gRPC and
 * gRPC-Web) instead of connect-node's Internal.
 *
 * Why here: a unary request is parsed before any interceptor runs, and connect-node takes no
 * custom serialization, so the first place that sees the failure is the response of the
 * router's handler. This wrapper rewrites only a response whose error is connect's own
 * "parse binary:" Internal, or its Internal for a compressed envelope without a declared
 * encoding; everything else passes through untouched. Streaming requests are parsed inside the
 * interceptor chain, where `createCanvasInterceptor` maps them without text
 * matching (this wrapper does not read Connect's end-of-stream frames). The regression tests in
 * undecodable-requests.test.ts fail if a connect-node upgrade changes the wording.
 */
export function withUndecodableRequestsRefused(routes: (router: ConnectRouter) => void): (router: ConnectRouter) => void {
  return (router) => {
    const first = router.handlers.length;
    routes(router);
    const added = router.handlers.splice(first);
    router.handlers.push(...added.map(answerUndecodableAsInvalidArgument));
  };
}
