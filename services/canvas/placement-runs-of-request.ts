import { Code, ConnectError } from "@connectrpc/connect";
import type { SetPixelsRequest } from "../../gen/pixel/v1/canvas_pb.js";
import { validateAuthorRuns } from "../shared/author-runs.js";
import { ipKeyOf } from "../shared/ip-key.js";
import type { PlacementRun } from "./canvas-store.js";

/** Longest Author.ip_key accepted (an IPv6 /64 key is at most 24 characters). */
export const MAX_IP_KEY_LENGTH = 64;

/**
 * The placement runs of a SetPixels request, validated at the edge (InvalidArgument when the
 * authors do not cover the pixels exactly or a field is out of bounds, see validateAuthorRuns).
 * Each Author is one run charged to its user id and published as its author; an empty ip_key falls
 * back to the caller's network key. A request without authors is one anonymous run by its caller:
 * user key `anon:<network key>` and network key of the peer address, so anonymous callers behind
 * one address share one budget, and no authorship is published.
 *
 * Authors are trusted as sent: only the gateways' cluster-internal port takes them from the
 * request; on the public /api, publicApiGuard has already replaced them with the caller's session.
 */
export function placementRuns(req: SetPixelsRequest, callerAddress: string): PlacementRun[] {
  const callerIp = ipKeyOf(callerAddress);
  if (req.authors.length === 0) return [{ pixelCount: req.pixels.length, userKey: `anon:${callerIp}`, ipKey: callerIp }];
  const invalid = validateAuthorRuns(req.authors, req.pixels.length);
  if (invalid !== undefined) throw new ConnectError(invalid, Code.InvalidArgument);
  return req.authors.map((author, i) => {
    if (author.ipKey.length > MAX_IP_KEY_LENGTH) throw new ConnectError(`authors[${i}].ip_key is longer than ${MAX_IP_KEY_LENGTH} characters`, Code.InvalidArgument);
    return { pixelCount: author.pixelCount, userKey: author.userId, ipKey: author.ipKey || callerIp, author: { userId: author.userId, name: author.name } };
  });
}
