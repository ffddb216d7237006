import { Code, ConnectError } from "@connectrpc/connect";
import type { SetPixelsRequest } from "../../gen/pixel/v1/canvas_pb.js";
import { ipKeyOf } from "../shared/ip-key.js";
import { validateName } from "../shared/pixel-validation.js";
import type { PlacementRun } from "./canvas-store.js";

/** Longest Author.user_id accepted; session user ids are far shorter. */
export const MAX_USER_ID_LENGTH = 128;
/** Longest Author.ip_key accepted (an IPv6 /64 key is at most 24 characters). */
export const MAX_IP_KEY_LENGTH = 64;

/**
 * The placement runs of a SetPixels request, validated at the edge (InvalidArgument when the
 * authors do not cover the pixels exactly or a field is out of bounds). A request without authors
 * is one run by its caller: user key `anon:<network key>` and network key of the peer address, so
 * anonymous callers behind one address share one budget. An Author with an empty user_id or ip_key
 * falls back to the same caller keys.
 */
export function placementRuns(req: SetPixelsRequest, callerAddress: string): PlacementRun[] {
  const callerIp = ipKeyOf(callerAddress);
  const anonymous = `anon:${callerIp}`;
  if (req.authors.length === 0) return [{ pixelCount: req.pixels.length, userKey: anonymous, ipKey: callerIp }];
  let covered = 0;
  const runs = req.authors.map((author, i) => {
    if (author.pixelCount < 1) throw new ConnectError(`authors[${i}].pixel_count must be at least 1`, Code.InvalidArgument);
    if (author.userId.length > MAX_USER_ID_LENGTH) throw new ConnectError(`authors[${i}].user_id is longer than ${MAX_USER_ID_LENGTH} characters`, Code.InvalidArgument);
    if (author.ipKey.length > MAX_IP_KEY_LENGTH) throw new ConnectError(`authors[${i}].ip_key is longer than ${MAX_IP_KEY_LENGTH} characters`, Code.InvalidArgument);
    const badName = validateName(author.name);
    if (badName !== undefined) throw new ConnectError(`authors[${i}].name: ${badName}`, Code.InvalidArgument);
    covered += author.pixelCount;
    return { pixelCount: author.pixelCount, userKey: author.userId || anonymous, ipKey: author.ipKey || callerIp };
  });
  if (covered !== req.pixels.length) {
    throw new ConnectError(`authors cover ${covered} pixels but the request has ${req.pixels.length}`, Code.InvalidArgument);
  }
  return runs;
}
