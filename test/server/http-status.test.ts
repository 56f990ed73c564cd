import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { httpStatusFromCode } from "../../src/server/legacy/http-status.js";

describe("httpStatusFromCode()", () => {
  it.each([
    [Code.InvalidArgument, 400],
    [Code.Unauthenticated, 401],
    [Code.PermissionDenied, 403],
    [Code.NotFound, 404],
    [Code.ResourceExhausted, 429],
    [Code.Internal, 500],
    [Code.Unimplemented, 501],
    [Code.Unavailable, 503],
    [Code.DeadlineExceeded, 504],
  ])("maps %s to %s", (code, status) => {
    expect(httpStatusFromCode(code)).toBe(status);
  });

  it("gives every Code a status", () => {
    const codes = Object.values(Code).filter((value) => typeof value === "number");
    for (const code of codes) expect(httpStatusFromCode(code)).toBeGreaterThanOrEqual(400);
  });
});
