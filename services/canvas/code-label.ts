import { Code } from "@connectrpc/connect";

/** A Connect code as a metrics label in gRPC's snake case, e.g. Code.InvalidArgument -> "invalid_argument". */
export function codeLabel(code: Code): string {
  const name = Code[code] ?? "unknown";
  return name.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}
