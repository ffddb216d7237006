import { PlacementKind, type Placement } from "../../../gen/pixel/v1/history_pb.js";

/** "12 s ago", "5 min ago", "3 h ago", or the date for older times. */
export function agoText(timeUnixMs: number, nowMs: number): string {
  const s = Math.max(0, Math.round((nowMs - timeUnixMs) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(timeUnixMs).toISOString().slice(0, 10);
}

/** Who placed it, as shown: the display name, or "anonymous" (the user id is never shown as a name). */
export function authorText(p: Pick<Placement, "name" | "userId">): string {
  return p.name !== "" ? p.name : "anonymous";
}

/** What kind of write it was, when it was not an ordinary placement. */
export function kindText(p: Pick<Placement, "kind" | "revertedBySeq">): string {
  const what = p.kind === PlacementKind.UNDO ? "undo" : p.kind === PlacementKind.ROLLBACK ? "moderation rollback" : "";
  const reverted = p.revertedBySeq > 0n ? `reverted by seq ${p.revertedBySeq}` : "";
  return [what, reverted].filter(Boolean).join(", ");
}
