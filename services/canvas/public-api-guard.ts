import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { AuthorSchema, type SetPixelsRequest, type SetPixelsResponse } from "../../gen/pixel/v1/canvas_pb.js";
import type { SessionMode } from "../shared/security-config.js";
import { sessionTokenOf } from "../shared/session-cookie.js";
import type { SessionTokens } from "../shared/session-token.js";

/** What the public /api checks writes with. */
export interface PublicApiGuardOptions {
  tokens: SessionTokens;
  sessions: SessionMode;
}

/**
 * Identity on the public /api (HTTP/1.1, proxied by the web tier): SetPixels needs a session (the
 * pp_session cookie or `authorization: Bearer <session token>`) unless SESSIONS=optional, and its
 * authorship is always the caller's own session, whatever the request claimed; a caller without
 * one (optional mode) stores no authorship. The placement budget then applies to that session's
 * user (and to the caller's own address): the caller named no runs, so a refusal is answered as
 * RESOURCE_EXHAUSTED, as for a request without authors. (WritePixels, the gateways' bidi stream,
 * cannot run over HTTP/1.1 at all, so only SetPixels writes arrive here.)
 */
export function publicApiGuard(options: PublicApiGuardOptions): Interceptor {
  return (next) => async (req) => {
    if (req.method.name !== "SetPixels" || req.stream) return next(req);
    const message = req.message as SetPixelsRequest;
    const token = sessionTokenOf(req.header);
    const session = token === undefined ? undefined : await options.tokens.verify(token);
    if (session === undefined && options.sessions === "required") {
      throw new ConnectError("SetPixels on /api needs a session: POST /session, then send its pp_session cookie (or authorization: Bearer <token>)", Code.Unauthenticated);
    }
    message.authors = session === undefined ? [] : [create(AuthorSchema, { userId: session.userId, name: message.author, pixelCount: message.pixels.length })];
    const res = await next(req);
    const refused = (res.message as SetPixelsResponse).results.find((r) => !r.stored);
    if (refused?.banned) throw new ConnectError(`you are banned from placing pixels${refused.banReason === "" ? "" : `: ${refused.banReason}`}`, Code.PermissionDenied);
    if (refused !== undefined) {
      throw new ConnectError(`over this canvas's placement budget; nothing was stored, retry after ${refused.retryAfterMs} ms`, Code.ResourceExhausted);
    }
    return res;
  };
}
