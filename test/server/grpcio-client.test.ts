import { execFile, execFileSync } from "node:child_process";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GetTokenRequestSchema,
  GetTokenResponseSchema,
  RtcRole,
} from "../../gen/agora/token/v1/token_service_pb.js";
import {
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/grpc/health/v1/health_pb.js";
import { type AppServer, startApp } from "../support/app-server.js";
import { decodeToken, privilegesFor } from "../support/decode-token.js";

/** Debian's interpreter, where `apt-get install python3-grpcio` puts the module (.ci/run does). */
const PYTHON = process.env.GRPCIO_PYTHON ?? "/usr/bin/python3";
const SCRIPT = resolve(import.meta.dirname, "../support/grpcio-client.py");
const hasGrpcio = (() => {
  try {
    execFileSync(PYTHON, ["-c", "import grpc"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

interface Call {
  kind: "unary" | "stream";
  path: string;
  request?: string;
  timeout?: number;
}
interface Outcome {
  code: string;
  details: string;
  messages: string[];
}

let server: AppServer;
beforeAll(async () => {
  if (hasGrpcio) server = await startApp();
});
afterAll(() => server?.close());

async function grpcio(calls: Call[]): Promise<{ outcomes: Outcome[]; stderr: string }> {
  const { stdout, stderr } = await promisify(execFile)(PYTHON, [
    SCRIPT,
    `127.0.0.1:${server.port}`,
    JSON.stringify(calls),
  ]);
  return {
    outcomes: stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as Outcome),
    stderr,
  };
}

describe.skipIf(!hasGrpcio)("python3-grpcio (gRPC C-core) as a client", () => {
  it("mints a token, gets UNIMPLEMENTED for unknown methods, and DEADLINE_EXCEEDED for a Watch past its deadline", async () => {
    const request = toBinary(
      GetTokenRequestSchema,
      create(GetTokenRequestSchema, {
        request: {
          case: "rtc",
          value: { channel: "grpcio", uid: "42", role: RtcRole.PUBLISHER, expireSeconds: 600 },
        },
      }),
    );
    const { outcomes, stderr } = await grpcio([
      {
        kind: "unary",
        path: "/agora.token.v1.TokenService/GetToken",
        request: Buffer.from(request).toString("hex"),
        timeout: 10,
      },
      { kind: "unary", path: "/agora.token.v1.TokenService/Nope" },
      { kind: "unary", path: "/agora.billing.v1.Invoices/Send" },
      { kind: "stream", path: "/grpc.health.v1.Health/Watch", timeout: 1 },
    ]);
    const [minted, nope, noService, watch] = outcomes;

    expect(minted?.code).toBe("OK");
    const response = fromBinary(
      GetTokenResponseSchema,
      Buffer.from(minted?.messages[0] ?? "", "hex"),
    );
    const token = decodeToken(response.token);
    expect(token.signatureValid).toBe(true);
    expect(token.services).toEqual([
      { type: 1, channel: "grpcio", uid: "42", privileges: privilegesFor([1, 2, 3, 4], 600) },
    ]);

    expect(nope).toEqual({
      code: "UNIMPLEMENTED",
      details: "agora.token.v1.TokenService has no method Nope",
      messages: [],
    });
    expect(noService).toMatchObject({
      code: "UNIMPLEMENTED",
      details: "this server has no service agora.billing.v1.Invoices",
    });
    // C-core read every answer as gRPC: nothing it could not parse.
    expect(stderr).not.toMatch(/parse|error/i);

    expect(watch?.code).toBe("DEADLINE_EXCEEDED");
    expect(
      watch?.messages.map(
        (hex) =>
          HealthCheckResponse_ServingStatus[
            fromBinary(HealthCheckResponseSchema, Buffer.from(hex, "hex")).status
          ],
      ),
    ).toEqual(["SERVING"]);
  });
});
