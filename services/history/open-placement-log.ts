import type { HistoryDatabase } from "./history-config.js";
import type { PlacementLog } from "./placement-log.js";
import { openPostgresPlacementLog } from "./postgres-placement-log.js";
import { openPgliteInWorker } from "./worker-placement-log.js";

/** Opens the placement log a HistoryDatabase names (PGlite in a worker thread); undefined when history is off. */
export async function openPlacementLog(db: HistoryDatabase): Promise<PlacementLog | undefined> {
  switch (db.kind) {
    case "postgres":
      return openPostgresPlacementLog(db.url);
    case "pglite":
      return openPgliteInWorker(db.dataDir);
    case "off":
      return undefined;
    default: {
      const unknown: never = db;
      throw new Error(`unknown history database ${JSON.stringify(unknown)}`);
    }
  }
}
