import type { IncomingMessage } from "node:http";
import { clientIpKey } from "../../shared/client-address.js";
import type { SecurityConfig } from "../../shared/security-config.js";
import { sessionTokenOf } from "../../shared/session-cookie.js";
import { generateSessionKey, parseSessionKeys, SessionTokens } from "../../shared/session-token.js";

/** Who is behind a socket, as far as the upgrade request shows. */
export interface UpgradeIdentity {
  /** The verified session's user id; undefined without a valid session. */
  userId: string | undefined;
  /** The client address key per-address limits count under (see ipKeyOf). */
  ipKey: string;
}

/** What a connection places as: a user id (undefined: may watch, not place) and its address key. */
export interface ConnectionIdentity {
  userId: string | undefined;
  ipKey: string;
}

/**
 * Checks sessions on WebSocket upgrades and caps open sockets per client address. One per gateway;
 * gateway-server.ts calls it from its upgrade and connection handlers.
 */
export class SessionGate {
  private readonly openPerIp = new Map<string, number>();

  constructor(
    private readonly tokens: SessionTokens,
    private readonly security: Pick<SecurityConfig, "sessions" | "trustProxy" | "maxConnectionsPerIp">,
  ) {}

  /** Verifies the upgrade request's session cookie (or bearer token); never rejects. */
  async identify(req: IncomingMessage): Promise<UpgradeIdentity> {
    const ipKey = clientIpKey(req, this.security.trustProxy);
    const token = sessionTokenOf(req.headers);
    // A token that makes verification fail in an unexpected way is still just no session.
    const session = token === undefined ? undefined : await this.tokens.verify(token).catch(() => undefined);
    return { userId: session?.userId, ipKey };
  }

  /** Counts a new socket from the address; returns the close reason when the address is at its cap (and counts nothing). */
  admit(identity: UpgradeIdentity): string | undefined {
    const open = this.openPerIp.get(identity.ipKey) ?? 0;
    if (open >= this.security.maxConnectionsPerIp) {
      return `too many connections from your address: at most ${this.security.maxConnectionsPerIp} per gateway; close some and retry`;
    }
    this.openPerIp.set(identity.ipKey, open + 1);
    return undefined;
  }

  /** A socket counted by admit() closed. */
  release(identity: UpgradeIdentity): void {
    const open = (this.openPerIp.get(identity.ipKey) ?? 0) - 1;
    if (open > 0) this.openPerIp.set(identity.ipKey, open);
    else this.openPerIp.delete(identity.ipKey);
  }

  /**
   * What connection `connectionId` places as: its session's user id; without a session, nobody
   * (its Places are refused as UNAUTHENTICATED) or, with SESSIONS=optional, `anon-<connection id>`.
   */
  identityOf(identity: UpgradeIdentity, connectionId: string): ConnectionIdentity {
    const userId = identity.userId ?? (this.security.sessions === "optional" ? `anon-${connectionId}` : undefined);
    return { userId, ipKey: identity.ipKey };
  }
}

/** What a gateway checks sessions with. */
export interface GatewayIdentity {
  tokens: SessionTokens;
  security: Pick<SecurityConfig, "sessions" | "trustProxy" | "maxConnectionsPerIp" | "sessionsPerIpPerMinute" | "cookieSecure">;
}

/**
 * For gateways built without identity settings (unit tests, embedded test servers): a key of this
 * process alone, sessions optional, no practical per-address caps.
 */
export function openGatewayIdentity(): GatewayIdentity {
  return {
    tokens: new SessionTokens(parseSessionKeys(generateSessionKey("test")), 86_400),
    security: { sessions: "optional", trustProxy: false, maxConnectionsPerIp: Number.MAX_SAFE_INTEGER, sessionsPerIpPerMinute: Number.MAX_SAFE_INTEGER, cookieSecure: false },
  };
}
