/** The RPC benchmark; see bench/rpc/README in the report. */
export async function runRpcBench(_argv: string[], log: (m: string) => void): Promise<void> {
  log("rpc benchmark: not built yet");
}
