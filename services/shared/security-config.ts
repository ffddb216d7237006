import { createHash } from "node:crypto";
import { ConfigError, envInt } from "./config.js";

/** Whether a WebSocket Place and a public /api write need a signed session. */
export type SessionMode = "required" | "optional";

/** One named admin credential: the name goes into every audit line, only the token's SHA-256 is configured. */
export interface AdminCredential {
  name: string;
  sha256: Buffer;
}

/** Identity, session and admin settings, read once from the environment. */
export interface SecurityConfig {
  /** SESSIONS: `required` (default) or `optional` (dev and tests: anonymous connections may place). */
  sessions: SessionMode;
  /** SESSION_KEYS as given; unset means generated (see loadSessionKeys). */
  sessionKeys: string | undefined;
  /** SESSION_MAX_AGE_DAYS (default 30), in seconds. */
  sessionMaxAgeSeconds: number;
  /** SESSIONS_PER_IP_PER_MINUTE: new sessions one address may get per minute (default 30). */
  sessionsPerIpPerMinute: number;
  /** MAX_CONNECTIONS_PER_IP: open WebSockets per address on one gateway (default 50). */
  maxConnectionsPerIp: number;
  /** TRUST_PROXY=true: the client address is X-Forwarded-For's last hop (set it only behind a proxy that appends it). */
  trustProxy: boolean;
  /** COOKIE_SECURE=true: always mark the cookie Secure (it is also when X-Forwarded-Proto is https). */
  cookieSecure: boolean;
  /** ADMIN_TOKENS (and the deprecated ADMIN_TOKEN as the credential named `admin`). */
  adminCredentials: readonly AdminCredential[];
  /** ADMIN_OVER_PUBLIC_API=true: admin RPCs are accepted on the public /api too. */
  adminOverPublicApi: boolean;
}

/** Default session lifetime. */
export const DEFAULT_SESSION_MAX_AGE_DAYS = 30;
/** Default per-address cap on new sessions per minute. */
export const DEFAULT_SESSIONS_PER_IP_PER_MINUTE = 30;
/** Default per-address cap on open WebSockets per gateway; loopback is not exempt. */
export const DEFAULT_MAX_CONNECTIONS_PER_IP = 50;

const ADMIN_NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,31}$/;

function bool(env: NodeJS.ProcessEnv, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new ConfigError(`${name}=${raw} must be true or false`);
}

/**
 * Parses ADMIN_TOKENS: comma-separated `name:sha256hex` entries, one per operator or automation, so
 * the secrets themselves are never in configuration and each can be revoked alone. The deprecated
 * ADMIN_TOKEN (a plain token) still works as the credential named `admin`.
 */
export function parseAdminCredentials(tokens: string | undefined, legacyToken: string | undefined): AdminCredential[] {
  const credentials: AdminCredential[] = [];
  for (const entry of (tokens ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const [name = "", hex = ""] = entry.split(":");
    if (!ADMIN_NAME_PATTERN.test(name)) throw new ConfigError(`ADMIN_TOKENS entry "${name}" must be name:sha256hex with a name matching ${ADMIN_NAME_PATTERN}`);
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new ConfigError(`ADMIN_TOKENS entry "${name}" must carry the token's SHA-256 as 64 hex digits (sha256sum of the token)`);
    if (credentials.some((c) => c.name === name)) throw new ConfigError(`ADMIN_TOKENS names "${name}" twice`);
    credentials.push({ name, sha256: Buffer.from(hex, "hex") });
  }
  if (legacyToken) {
    if (credentials.some((c) => c.name === "admin")) throw new ConfigError("ADMIN_TOKEN (deprecated) and an ADMIN_TOKENS entry named admin cannot both be set");
    credentials.push({ name: "admin", sha256: createHash("sha256").update(legacyToken).digest() });
  }
  return credentials;
}

/** Reads and validates the security settings. */
export function loadSecurityConfig(env: NodeJS.ProcessEnv = process.env): SecurityConfig {
  const sessions = env.SESSIONS || "required";
  if (sessions !== "required" && sessions !== "optional") throw new ConfigError(`SESSIONS=${sessions} must be required or optional`);
  return {
    sessions,
    sessionKeys: env.SESSION_KEYS || undefined,
    sessionMaxAgeSeconds: envInt(env, "SESSION_MAX_AGE_DAYS", DEFAULT_SESSION_MAX_AGE_DAYS, 1, 400) * 86_400,
    sessionsPerIpPerMinute: envInt(env, "SESSIONS_PER_IP_PER_MINUTE", DEFAULT_SESSIONS_PER_IP_PER_MINUTE, 1, 1_000_000),
    maxConnectionsPerIp: envInt(env, "MAX_CONNECTIONS_PER_IP", DEFAULT_MAX_CONNECTIONS_PER_IP, 1, 1_000_000),
    trustProxy: bool(env, "TRUST_PROXY"),
    cookieSecure: bool(env, "COOKIE_SECURE"),
    adminCredentials: parseAdminCredentials(env.ADMIN_TOKENS, env.ADMIN_TOKEN),
    adminOverPublicApi: bool(env, "ADMIN_OVER_PUBLIC_API"),
  };
}
