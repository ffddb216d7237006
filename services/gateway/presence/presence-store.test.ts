import { describe } from "vitest";
import { MemoryPresenceStore } from "./presence.js";
import { describePresenceStoreContract } from "./test-support/presence-store-contract.js";

describe("MemoryPresenceStore", () => {
  let shared: ConstructorParameters<typeof MemoryPresenceStore>[2] = new Map();
  describePresenceStoreContract("MemoryPresenceStore", {
    async clear() {
      shared = new Map();
    },
    open: async (instanceId, ttlMs) => new MemoryPresenceStore(instanceId, ttlMs, shared),
  });
});
