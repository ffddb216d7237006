import { createClient, type Client, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { HistoryService } from "../../../gen/pixel/v1/history_pb.js";

/** A HistoryService client (lookup, undo, placements for the timelapse, export). */
export type HistoryClient = Client<typeof HistoryService>;

/**
 * The HistoryService client of the page, over the same-origin `/api` Connect route (binary
 * protobuf). fetch sends same-origin cookies by default, so the session travels with every call
 * and UndoPlacement knows who asks.
 */
export function historyClient(apiBaseUrl: string, transport?: Transport): HistoryClient {
  return createClient(HistoryService, transport ?? createConnectTransport({ baseUrl: apiBaseUrl, useBinaryFormat: true }));
}
