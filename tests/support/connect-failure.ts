import { ConnectError } from "@connectrpc/connect";

/** Awaits a call that must fail and returns its error as a ConnectError; throws if it succeeded. */
export async function connectFailure(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (err) {
    return ConnectError.from(err);
  }
  throw new Error("the call succeeded");
}
