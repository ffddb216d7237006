import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { HistoryService } from "../../gen/pixel/v1/history_pb.js";
import { CanvasClient } from "../../web/src/protocol/canvas-client.js";
import { wsSocketFactoryWith } from "../../web/src/protocol/ws-socket.js";
import { startCluster } from "../../tools/cluster/cluster.js";
import { freePort, waitFor } from "../../tools/process/free-port.js";
import { startService } from "../../tools/process/service-process.js";
import { fetchSession, testSessionKeys, type ClientSession } from "../../tools/process/session.js";

/** The undo window of the systems under test: short, so the test of its end waits little. */
export const UNDO_WINDOW_TEST_MS = 3_000;

/** The environment every history system is started with: an admin credential usable on /api, a short undo window. */
export function historyEnv(adminToken: string): Record<string, string> {
  return {
    SESSION_KEYS: testSessionKeys(),
    SESSIONS: "required",
    ADMIN_TOKENS: `moderator:${createHash("sha256").update(adminToken).digest("hex")}`,
    ADMIN_OVER_PUBLIC_API: "true",
    CANVAS_IDS: "default",
    UNDO_WINDOW_MS: String(UNDO_WINDOW_TEST_MS),
  };
}

/** A running system with history: where to reach /api, /ws and POST /session, and how to stop it. */
export interface HistorySystem {
  name: string;
  apiUrl: string;
  wsUrls: string[];
  sessionUrl: string;
  adminToken: string;
  stop(): Promise<void>;
}

/** `npm start`'s process (embedded store, PGlite log, in-process archiver), built under dist/. */
export async function startEmbeddedSystem(): Promise<HistorySystem> {
  const adminToken = randomBytes(16).toString("hex");
  const dataDir = mkdtempSync(join(tmpdir(), "pixel-history-embedded-"));
  const [webPort, grpcPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${webPort}`;
  const proc = await startService("history-embedded", "services/local/main.js", { ...historyEnv(adminToken), WEB_PORT: String(webPort), CANVAS_GRPC_PORT: String(grpcPort), DATA_DIR: dataDir }, `${url}/readyz`, 60_000);
  return {
    name: "embedded (npm start: memory store, PGlite)",
    apiUrl: `${url}/api`,
    wsUrls: [`ws://127.0.0.1:${webPort}/ws`],
    sessionUrl: url,
    adminToken,
    async stop() {
      await proc.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Redis, PostgreSQL, the archiver, two canvas replicas and two gateways as real processes (npm run cluster --history postgres). */
export async function startClusterSystem(): Promise<HistorySystem> {
  const adminToken = randomBytes(16).toString("hex");
  const cluster = await startCluster({ canvases: 2, gateways: 2, web: false, history: "postgres", env: historyEnv(adminToken) });
  return {
    name: "cluster (Redis, PostgreSQL, archiver, 2 canvas, 2 gateways)",
    apiUrl: `${cluster.url}/api`,
    // Each client on its own gateway, not through the balancer, so both gateways are exercised.
    wsUrls: cluster.gateways.map((g) => `ws://127.0.0.1:${g.port}/ws`),
    sessionUrl: `http://127.0.0.1:${cluster.gateways[0]!.port}`,
    adminToken,
    stop: () => cluster.stop(),
  };
}

/** The system's Connect clients over /api (HTTP/1.1), with headers per call. */
export function apiClients(system: HistorySystem): { history: Client<typeof HistoryService>; canvas: Client<typeof CanvasService> } {
  const transport = createConnectTransport({ baseUrl: system.apiUrl, httpVersion: "1.1" });
  return { history: createClient(HistoryService, transport), canvas: createClient(CanvasService, transport) };
}

/** A person: their session and a live web-protocol client on one gateway, watching the whole canvas. */
export interface Person {
  session: ClientSession;
  client: CanvasClient;
  /** Error codes the client was sent, in order. */
  errors: number[];
  acks: number;
}

/** Opens a person's session (or another socket of `sameAs`) and client, and waits until it is live. */
export async function person(system: HistorySystem, name: string, gateway = 0, sameAs?: ClientSession): Promise<Person> {
  const session = sameAs ?? (await fetchSession(system.sessionUrl));
  const url = system.wsUrls[gateway % system.wsUrls.length]!;
  const client = new CanvasClient({ url, socketFactory: wsSocketFactoryWith({ cookie: session.cookie }), name, watchAll: true, tileBaseUrl: system.apiUrl.replace(/\/api$/, "") });
  const p: Person = { session, client, errors: [], acks: 0 };
  client.on("error", ({ code }) => p.errors.push(code));
  client.on("ack", () => (p.acks += 1));
  client.start();
  await waitFor(`${name} live`, () => client.state === "live", 20_000, 20);
  return p;
}

/** Places pixels and waits for the Ack (or an Error, returned as its code). */
export async function place(p: Person, pixels: { x: number; y: number; color: number }[]): Promise<"acked" | number> {
  const acks = p.acks;
  const errors = p.errors.length;
  if (!p.client.place(pixels).ok) throw new Error("the client is not live");
  await waitFor("placement settled", () => p.acks > acks || p.errors.length > errors, 10_000, 10);
  return p.acks > acks ? "acked" : p.errors[errors]!;
}
