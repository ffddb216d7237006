import { createHash } from "node:crypto";
import type { RedisClient, WaitPolicy } from "../shared/redis-connection.js";
import { StoreUnavailableError } from "./canvas-store.js";

type ScriptArg = string | number | Buffer | Uint8Array;

/**
 * Runs the write script and `WAIT replicas timeoutMs` in one pipeline, so both go down the same
 * connection to the primary that owns the canvas's slot and WAIT counts the replicas that hold
 * exactly this write (WAIT is per connection: on another one it would count nothing of ours).
 *
 * "Acknowledged means replicated": when fewer replicas than asked confirm in time, the write is
 * answered Unavailable, never acknowledged. It may still be applied (and published, so clients
 * converge on it) or be lost in a failover; either way no one was told it was stored. The gateway
 * retries it within its deadline; a retry stores the same colours again under a new seq, which is
 * harmless (a colour written twice is the same colour) except that it is charged to the placement
 * budgets again.
 *
 * The script is sent with EVALSHA and, when the server does not know it (a new primary after a
 * failover, a restart), the whole pipeline is sent again with EVAL, so WAIT always follows the
 * script it is meant to cover.
 */
export class ReplicatedWriter {
  private readonly sha: string;

  constructor(private readonly redis: RedisClient, private readonly lua: string, private readonly policy: WaitPolicy) {
    this.sha = createHash("sha1").update(lua).digest("hex");
  }

  /**
   * Runs the script with `numKeys` keys and `keysAndArgs`, calls `onStored` with its reply as soon
   * as Redis stored it, and resolves with that reply once enough replicas confirmed.
   */
  async write<T>(numKeys: number, keysAndArgs: ScriptArg[], onStored: (reply: T) => void): Promise<T> {
    let results = await this.send("evalsha", numKeys, keysAndArgs);
    if (results[0]?.[0]?.message.startsWith("NOSCRIPT")) results = await this.send("eval", numKeys, keysAndArgs);
    const [scriptErr, reply] = results[0] ?? [new Error("the write pipeline returned nothing"), undefined];
    if (scriptErr) throw scriptErr;
    onStored(reply as T);
    const [waitErr, replicas] = results[1] ?? [new Error("WAIT returned nothing"), 0];
    if (waitErr) throw new StoreUnavailableError(`the write was stored but its replication is unknown: ${waitErr.message}`);
    if (typeof replicas !== "number" || replicas < this.policy.replicas) {
      throw new StoreUnavailableError(`the write was stored but only ${String(replicas)} of ${this.policy.replicas} replicas confirmed it within ${this.policy.timeoutMs} ms`);
    }
    return reply as T;
  }

  private async send(command: "evalsha" | "eval", numKeys: number, keysAndArgs: ScriptArg[]): Promise<[Error | null, unknown][]> {
    const pipeline = this.redis.pipeline();
    // ioredis's typings take the script arguments as strings or Buffers; numbers are sent as their text.
    const args = keysAndArgs.map((a) => (a instanceof Uint8Array && !Buffer.isBuffer(a) ? Buffer.from(a.buffer, a.byteOffset, a.byteLength) : a)) as (string | Buffer | number)[];
    if (command === "evalsha") pipeline.evalsha(this.sha, numKeys, ...args);
    else pipeline.eval(this.lua, numKeys, ...args);
    pipeline.wait(this.policy.replicas, this.policy.timeoutMs);
    const results = await pipeline.exec();
    if (results === null) throw new StoreUnavailableError("redis aborted the write pipeline");
    return results;
  }
}
