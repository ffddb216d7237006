import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe } from "vitest";
import { openPglitePlacementLog } from "./pglite-placement-log.js";
import { describePlacementLogContract } from "./test-support/placement-log-contract.js";

// PGlite starts PostgreSQL in WebAssembly (seconds on a loaded machine), hence an e2e file.
describe("PGlite placement log (the embedded default)", () => {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  describePlacementLogContract("PGlite in a data directory", {
    async clear() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = mkdtempSync(join(tmpdir(), "pixel-history-"));
    },
    open: () => openPglitePlacementLog(dir),
  });
});
