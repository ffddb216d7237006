import { randomUUID } from "node:crypto";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "../shared/logger.js";
import { rpcErrors } from "./canvas-metrics.js";
import { CanvasSizeMismatchError, PlacementTooLargeError, StoreUnavailableError } from "./canvas-store.js";
import { codeLabel } from "./code-label.js";
import { CanvasExistsError } from "./canvas-registry.js";

/**
 * Turns any failure of `method` into the ConnectError to send, and counts it. Faults are logged
 * with a request id (the caller's `x-request-id`, or a new one) that an Internal answer also
 * quotes; the cause of an Internal fault is logged, never sent.
 */
export function toConnectError(method: string, err: unknown, requestHeader: Headers, logger: Logger): ConnectError {
  let failure: ConnectError;
  if (err instanceof ConnectError) {
    failure = err;
  } else {
    const requestId = requestHeader.get("x-request-id") ?? randomUUID();
    const log = logger.child({ method, requestId });
    if (err instanceof StoreUnavailableError) {
      log.debug({ err: err.message }, "store unavailable");
      failure = new ConnectError("the canvas storage is unavailable; retry shortly", Code.Unavailable);
    } else if (err instanceof PlacementTooLargeError) {
      failure = new ConnectError(err.message, Code.InvalidArgument);
    } else if (err instanceof CanvasExistsError) {
      failure = new ConnectError(err.message, Code.AlreadyExists);
    } else if (err instanceof CanvasSizeMismatchError) {
      log.error({ err: err.message }, "stored canvas size differs from the configuration");
      failure = new ConnectError(err.message, Code.FailedPrecondition);
    } else {
      log.error({ err }, "internal error");
      failure = new ConnectError(`internal error (request id ${requestId})`, Code.Internal);
    }
  }
  rpcErrors.inc({ method, code: codeLabel(failure.code) });
  return failure;
}

/**
 * The Connect code a failure will be answered with, without logging or counting it (for
 * metrics that need the code before the interceptor maps the failure).
 */
export function failureCode(err: unknown): Code {
  if (err instanceof ConnectError) return err.code;
  if (err instanceof StoreUnavailableError) return Code.Unavailable;
  if (err instanceof PlacementTooLargeError) return Code.InvalidArgument;
  if (err instanceof CanvasSizeMismatchError) return Code.FailedPrecondition;
  if (err instanceof CanvasExistsError) return Code.AlreadyExists;
  return Code.Internal;
}

/**
 * Request messages of a stream, with a failure to read one answered as InvalidArgument.
 * connect-node parses each streamed message lazily, inside the implementation's loop, and
 * reports a protobuf parse failure as Internal (its serialization is shared with clients, for
 * whom a bad response is a server fault); a message the client sent that cannot be read is the
 * client's error, whatever the protocol.
 */
async function* readableRequests<T>(messages: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (err) {
    const error = ConnectError.from(err);
    if (error.code !== Code.Internal) throw error;
    throw new ConnectError(`the request could not be decoded: ${error.rawMessage}`, Code.InvalidArgument);
  }
}

/**
 * What every canvas call needs, in one place instead of a try/catch per method: failures are
 * mapped to precise codes (`toConnectError`), logged with a request id and counted by method
 * and code. Streams are covered message by message; a stream ended by the client, a deadline or
 * the server's shutdown (the call's signal aborted) ends cleanly, as that is no error of ours.
 */
export function createCanvasInterceptor(logger: Logger): Interceptor {
  return (next) => async (req) => {
    const method = req.method.name;
    const fail = (err: unknown) => toConnectError(method, err, req.header, logger);
    if (!req.stream) {
      try {
        return await next(req);
      } catch (err) {
        throw fail(err);
      }
    }
    let res;
    try {
      res = await next({ ...req, message: readableRequests(req.message) });
    } catch (err) {
      throw fail(err);
    }
    if (!res.stream) return res;
    const responses = res.message;
    async function* mapped() {
      try {
        yield* responses;
      } catch (err) {
        if (req.signal.aborted) return;
        throw fail(err);
      }
    }
    return { ...res, message: mapped() };
  };
}
