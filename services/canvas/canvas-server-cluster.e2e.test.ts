import { existsSync } from "node:fs";
import { join } from "node:path";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasService } from "../../gen/pixel/v1/canvas_pb.js";
import { canvasKeys } from "../shared/redis-keys.js";
import { freePort } from "../../tools/process/free-port.js";
import { startRedisCluster, type TestRedisCluster } from "../../tools/process/redis-cluster.js";
import { REPO_ROOT, startService, type ServiceProcess } from "../../tools/process/service-process.js";
import { testSessionKeys } from "../../tools/process/session.js";

const ENTRY = "services/canvas/main.js";
const CANVASES = ["default", "north", "south", "east", "west", "stream"];

describe("canvas service as a real process on a Redis Cluster (REDIS_CLUSTER_NODES, WAIT 1 by default)", () => {
  let cluster: TestRedisCluster;
  let service: ServiceProcess;
  let httpUrl: string;
  let client: Client<typeof CanvasService>;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, "dist", ENTRY))) throw new Error("dist/ is missing: run `npx tsc -p tsconfig.build.json` first (npm test does)");
    cluster = await startRedisCluster({ shards: 3 });
    const grpcPort = await freePort();
    const httpPort = await freePort();
    httpUrl = `http://127.0.0.1:${httpPort}`;
    service = await startService("canvas-e2e-cluster", ENTRY, {
      HOST: "127.0.0.1", CANVAS_GRPC_PORT: String(grpcPort), CANVAS_HTTP_PORT: String(httpPort), SESSION_KEYS: testSessionKeys(),
      REDIS_CLUSTER_NODES: cluster.seeds.join(","), CANVAS_WIDTH: "32", CANVAS_HEIGHT: "32", CANVAS_IDS: CANVASES.join(","),
    }, `${httpUrl}/readyz`);
    client = createClient(CanvasService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
  }, 60_000);
  afterAll(async () => {
    await service?.stop();
    await cluster?.stop();
  });

  it("lists the registry, and stores and streams every canvas's batches wherever its shard is (SPUBLISH / SSUBSCRIBE)", async () => {
    expect((await client.listCanvases({})).canvases.map((c) => c.name).sort()).toEqual([...CANVASES].sort());
    const owners = new Set<number>();
    for (const [i, canvasId] of CANVASES.filter((c) => c !== "stream").entries()) {
      owners.add((await cluster.primaryFor(canvasKeys(canvasId).meta)).port);
      await client.setPixels({ canvasId, pixels: [{ x: 0, y: i, color: 0x10203 }], author: "e2e" });
      const abort = new AbortController();
      const seen: bigint[] = [];
      const watching = (async () => {
        try {
          for await (const res of client.watchCanvas({ canvasId, afterSeq: 1n }, { signal: abort.signal })) {
            if (res.batch && res.batch.pixels.length > 0) seen.push(res.batch.seq);
            if (seen.length === 2) break;
          }
        } catch (err) {
          if (!abort.signal.aborted) throw err;
        }
      })();
      for (let k = 1; k < 3; k++) await client.setPixels({ canvasId, pixels: [{ x: k, y: i, color: 0x10203 * (k + 1) }], author: "e2e" });
      const timer = setTimeout(() => abort.abort(), 10_000);
      await watching;
      clearTimeout(timer);
      expect(seen).toEqual([2n, 3n]);
      const snap = await client.getCanvas({ canvasId });
      expect([snap.seq, [...snap.pixels.subarray((i * 32 + 2) * 3, (i * 32 + 2) * 3 + 3)]]).toEqual([3n, [0x03, 0x06, 0x09]]);
    }
    // Six canvases landed on more than one primary: the cluster really shards them.
    expect(owners.size).toBeGreaterThan(1);
  }, 60_000);

  it("answers WritePixels requests in order on one stream, each acknowledged after a replica confirmed it", async () => {
    async function* requests() {
      for (let i = 1; i <= 20; i++) yield { id: BigInt(i), request: { canvasId: "stream", pixels: [{ x: i, y: 3, color: i }], author: "s" } };
    }
    const seqs: bigint[] = [];
    for await (const res of client.writePixels(requests())) if (res.result.case === "stored") seqs.push(res.result.value.seq);
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => BigInt(i + 1)));
    const primary = await cluster.primaryFor(canvasKeys("stream").meta);
    const replica = await cluster.replicaOf(primary);
    // The replica itself holds every acknowledged batch (READONLY: read there, not redirected).
    const { execFileSync } = await import("node:child_process");
    const onReplica = execFileSync("redis-cli", ["-p", String(replica.port)], { input: `READONLY\nXLEN ${canvasKeys("stream").log}\n` }).toString().trim().split("\n");
    expect(onReplica).toEqual(["OK", "20"]);
  }, 30_000);
});
