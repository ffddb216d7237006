import { createHash, timingSafeEqual } from "node:crypto";
import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { resolveCanvasId } from "../shared/config.js";
import type { Logger } from "../shared/logger.js";
import type { AdminCredential } from "../shared/security-config.js";

/** RPCs that need an admin credential: canvas administration and moderation (HistoryService). */
export const ADMIN_METHODS: ReadonlySet<string> = new Set([
  "ResetCanvas",
  "CreateCanvas",
  "PreviewRollback",
  "Rollback",
  "BanUser",
  "UnbanUser",
  "ListBans",
  "ListModerationActions",
]);

/** The name of the admin credential an admin RPC was allowed with, for the moderation audit trail. */
export const ADMIN_NAME = createContextKey<string>("");

/** Where a call arrived: the cluster-internal h2c port, or the public HTTP/1.1 /api the web tier proxies. */
export type ApiSurface = "internal" | "public";

/** What admin access checks against and where it writes its audit lines. */
export interface AdminAccessOptions {
  credentials: readonly AdminCredential[];
  /** ADMIN_OVER_PUBLIC_API: serve admin RPCs on the public /api too. */
  overPublicApi: boolean;
  surface: ApiSurface;
  logger: Logger;
}

/** The credential whose token's SHA-256 is `digest`; every credential is compared, in constant time. */
function matchCredential(credentials: readonly AdminCredential[], token: string): AdminCredential | undefined {
  const digest = createHash("sha256").update(token).digest();
  let found: AdminCredential | undefined;
  for (const c of credentials) if (timingSafeEqual(digest, c.sha256) && found === undefined) found = c;
  return found;
}

/**
 * Guards admin RPCs (ADMIN_METHODS) and audits them: refused with PermissionDenied on the public
 * /api unless allowed, Unimplemented when no admin credential is configured, PermissionDenied
 * without `authorization: Bearer <token>` matching a named credential. Every attempt, allowed or
 * not, is logged as one JSON line `{"audit":{admin, action, canvasId, surface, result}}`.
 */
export function adminAccess(options: AdminAccessOptions): Interceptor {
  const audit = options.logger.child({ component: "audit" });
  return (next) => async (req) => {
    const action = req.method.name;
    if (!ADMIN_METHODS.has(action)) return next(req);
    // CreateCanvas names its canvas `name`; the others `canvas_id`.
    const message = req.stream ? {} : (req.message as { canvasId?: unknown; name?: unknown });
    const raw = message.canvasId ?? message.name;
    const canvasId = resolveCanvasId(typeof raw === "string" ? raw : "");
    const record = (admin: string | null, result: string) => audit.info({ audit: { admin, action, canvasId, surface: options.surface, result } }, "admin action");
    if (options.surface === "public" && !options.overPublicApi) {
      record(null, "refused_public_api");
      throw new ConnectError(`${action} is not served on the public /api: call it on the cluster-internal port (CANVAS_GRPC_PORT), or set ADMIN_OVER_PUBLIC_API=true`, Code.PermissionDenied);
    }
    if (options.credentials.length === 0) {
      throw new ConnectError(`${action} is disabled in this deployment: set ADMIN_TOKENS (name:sha256hex entries) to enable it`, Code.Unimplemented);
    }
    const match = /^Bearer (\S+)$/.exec(req.header.get("authorization") ?? "");
    const credential = match ? matchCredential(options.credentials, match[1]!) : undefined;
    if (credential === undefined) {
      record(null, "denied");
      throw new ConnectError(`${action} needs the header authorization: Bearer <admin token> for a credential in ADMIN_TOKENS`, Code.PermissionDenied);
    }
    req.contextValues.set(ADMIN_NAME, credential.name);
    try {
      const res = await next(req);
      record(credential.name, "ok");
      return res;
    } catch (err) {
      record(credential.name, Code[ConnectError.from(err).code] ?? "error");
      throw err;
    }
  };
}
