import type { MemoryCanvasStore } from "../canvas/memory-canvas-store.js";
import type { HistorySlice, HistorySource } from "./history-source.js";

/**
 * The embedded store's retained history as the archiver's source: the canvases loaded in this
 * process (only they have history) and `extraCanvasIds` (the configured ones).
 */
export function memoryHistorySource(store: MemoryCanvasStore, extraCanvasIds: readonly string[]): HistorySource {
  return {
    async canvasIds(): Promise<string[]> {
      return [...new Set([...extraCanvasIds, ...store.loadedCanvasIds()])].sort();
    },
    read(canvasId: string, afterSeq: number, limit: number): Promise<HistorySlice> {
      return store.retainedHistory(canvasId, afterSeq, limit);
    },
  };
}
