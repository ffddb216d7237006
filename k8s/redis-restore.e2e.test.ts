import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../tools/process/free-port.js";
import { startRedis, type TestRedis } from "../tools/process/redis-server.js";
import { K8S_DIR } from "./kustomize-render.js";

function cli(port: number, ...args: string[]): string {
  const r = spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

describe("the runbook's Redis backup and restore (k8s/tools/redis-restore.sh)", () => {
  let redis: TestRedis | undefined;
  let backupDir: string | undefined;
  afterEach(async () => {
    await redis?.stop();
    if (backupDir) rmSync(backupDir, { recursive: true, force: true });
  });

  it("brings an AOF Redis back to the backup's contents and keeps the replaced data", async () => {
    redis = await startRedis({ appendfsync: "always" });
    cli(redis.port, "SET", "canvas:{default}:pixels", "before");
    cli(redis.port, "HSET", "canvas:{default}:meta", "seq", "7", "epoch", "1");
    // Backup as the runbook takes it: an RDB streamed from the live server.
    backupDir = mkdtempSync(join(tmpdir(), "pixel-backup-"));
    const backup = join(backupDir, "backup.rdb");
    cli(redis.port, "--rdb", backup);
    cli(redis.port, "SET", "canvas:{default}:pixels", "after");
    cli(redis.port, "SET", "written-after-backup", "1");
    // Redis stopped (the StatefulSet scaled to 0), then the backup copied onto the volume.
    await redis.kill9();
    copyFileSync(backup, join(redis.dir, "restore.rdb"));

    const restore = spawnSync("sh", [join(K8S_DIR, "tools", "redis-restore.sh")], {
      encoding: "utf8",
      env: { ...process.env, REDIS_DATA_DIR: redis.dir, RESTORE_PORT: String(await freePort()), TMPDIR: redis.dir },
      timeout: 60_000,
    });
    expect(restore.stderr).toBe("");
    expect(restore.status).toBe(0);
    expect(restore.stdout).toMatch(/loaded backup: 2 keys/);

    // Started again exactly as the StatefulSet starts it: AOF on, so it replays the new AOF.
    await redis.restart();
    expect(cli(redis.port, "GET", "canvas:{default}:pixels")).toBe("before");
    expect(cli(redis.port, "HGET", "canvas:{default}:meta", "seq")).toBe("7");
    expect(cli(redis.port, "EXISTS", "written-after-backup")).toBe("0");
    const kept = readdirSync(join(redis.dir, "pre-restore"));
    expect(kept).toHaveLength(1);
    expect(existsSync(join(redis.dir, "pre-restore", kept[0] as string, "appendonlydir"))).toBe(true);
  });

  it("refuses to run without a restore.rdb and changes nothing", async () => {
    redis = await startRedis();
    cli(redis.port, "SET", "k", "v");
    await redis.kill9();
    const restore = spawnSync("sh", [join(K8S_DIR, "tools", "redis-restore.sh")], {
      encoding: "utf8",
      env: { ...process.env, REDIS_DATA_DIR: redis.dir, RESTORE_PORT: String(await freePort()), TMPDIR: redis.dir },
    });
    expect(restore.status).toBe(1);
    expect(restore.stderr).toMatch(/no .*restore\.rdb/);
    await redis.restart();
    expect(cli(redis.port, "GET", "k")).toBe("v");
  });
});
