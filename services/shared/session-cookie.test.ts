import { describe, expect, it } from "vitest";
import { readCookie, sessionSetCookie, sessionTokenOf } from "./session-cookie.js";

describe("session cookie", () => {
  it("reads one cookie among others, with spaces, quotes and empty parts", () => {
    expect(readCookie("a=1; pp_session=abc.def.ghi ;b=2", "pp_session")).toBe("abc.def.ghi");
    expect(readCookie(';;pp_session="x.y.z"', "pp_session")).toBe("x.y.z");
    expect(readCookie("xpp_session=1; pp_sessionx=2", "pp_session")).toBeUndefined();
    expect(readCookie(undefined, "pp_session")).toBeUndefined();
  });

  it("takes the token from the cookie first, then from a bearer header, from Node headers and fetch Headers", () => {
    expect(sessionTokenOf({ cookie: "pp_session=c.c.c", authorization: "Bearer b.b.b" })).toBe("c.c.c");
    expect(sessionTokenOf({ authorization: "Bearer b.b.b" })).toBe("b.b.b");
    expect(sessionTokenOf(new Headers({ cookie: "pp_session=h.h.h" }))).toBe("h.h.h");
    expect(sessionTokenOf({ authorization: "Basic dTpw" })).toBeUndefined();
  });

  it("sets an HttpOnly, SameSite=Lax cookie for the whole site, Secure only when asked", () => {
    expect(sessionSetCookie("t.t.t", 60, false)).toBe("pp_session=t.t.t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60");
    expect(sessionSetCookie("t.t.t", 60, true)).toMatch(/; Secure$/);
  });
});
