import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../../gen/pixel/v1/realtime_pb.js";
import { Code, ConnectError } from "@connectrpc/connect";
import { connectionLostText, errorText, refusalText, statusText, undoFailedText, undoneText } from "./messages.js";

describe("user-facing messages", () => {
  it("names every connection state the way the status line and the browser test expect", () => {
    expect(["idle", "connecting", "live", "resyncing", "reconnecting", "closed"].map((s) => statusText(s as Parameters<typeof statusText>[0]))).toEqual([
      "connecting…",
      "connecting…",
      "live",
      "resyncing…",
      "reconnecting…",
      "closed",
    ]);
  });

  it("explains refused and failed placements with how many pixels were taken back", () => {
    expect(errorText(ErrorCode.RATE_LIMITED, "x", 3)).toBe("Rate limited: slow down a little (3 pixels taken back).");
    expect(errorText(ErrorCode.UNAVAILABLE, "x", 1)).toBe("Not stored: service unavailable (1 pixel taken back).");
    expect(errorText(ErrorCode.OVERLOADED, "x", 2)).toBe("Not stored: the server is busy (2 pixels taken back).");
    expect(errorText(ErrorCode.UNAUTHENTICATED, "x", 1)).toBe("Not stored: this page has no valid session; reload it to get one (1 pixel taken back).");
    expect(errorText(ErrorCode.INVALID_ARGUMENT, "pixel 0 (x=99, y=0) is outside the 50x50 canvas", 1)).toBe("Refused: pixel 0 (x=99, y=0) is outside the 50x50 canvas (1 pixel taken back).");
    expect(errorText(ErrorCode.NOT_JOINED, "send Hello first", 0)).toBe("Server error: send Hello first.");
  });

  it("says that nothing was placed while not connected", () => {
    expect(refusalText({ ok: false, reason: "not-live", state: "reconnecting" })).toBe("Not connected (reconnecting…): nothing was placed.");
    expect(refusalText({ ok: false, reason: "invalid", message: "bad pixel" })).toBe("Not placed: bad pixel.");
    expect(connectionLostText(4)).toBe("Connection lost before 4 pixels were confirmed; they reappear if they were stored.");
  });

  it("says what an undo restored and kept, and why one was refused in the server's words", () => {
    expect(undoneText(3, 0)).toBe("Undone: 3 pixels restored.");
    expect(undoneText(1, 2)).toBe("Undone: 1 pixel restored; 2 pixels kept, painted over since.");
    expect(undoFailedText(new ConnectError("the undo window of 5000 ms has passed", Code.FailedPrecondition))).toBe("Not undone: the undo window of 5000 ms has passed.");
  });
});
