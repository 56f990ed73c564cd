import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/load-config.js";
import { problemsOf } from "./support/config-problems.js";

const APP_ID = "0123456789abcdef0123456789ABCDEF";
const CERT = "fedcba9876543210fedcba9876543210";
const OLD_CERT = "00112233445566778899aabbccddeeff";

describe("loadConfig() with APP_CERTIFICATE_SECONDARY", () => {
  it("keeps the secondary certificate for checking tokens, and signs with APP_CERTIFICATE", () => {
    const config = loadConfig({
      APP_ID,
      APP_CERTIFICATE: CERT,
      APP_CERTIFICATE_SECONDARY: OLD_CERT,
    });
    expect(config.credentials).toEqual({
      appId: APP_ID,
      appCertificate: CERT,
      secondaryAppCertificate: OLD_CERT,
    });
  });

  it("has no secondary certificate when the variable is unset or empty", () => {
    for (const env of [
      { APP_ID, APP_CERTIFICATE: CERT },
      { APP_ID, APP_CERTIFICATE: CERT, APP_CERTIFICATE_SECONDARY: "" },
    ]) {
      expect(loadConfig(env).credentials).not.toHaveProperty("secondaryAppCertificate");
    }
  });

  it("refuses a malformed secondary certificate without printing it", () => {
    const secret = `${OLD_CERT} `;
    const problems = problemsOf({
      APP_ID,
      APP_CERTIFICATE: CERT,
      APP_CERTIFICATE_SECONDARY: secret,
    });
    expect(problems).toEqual([
      "APP_CERTIFICATE_SECONDARY must be exactly 32 hexadecimal characters (got 33 characters)",
    ]);
    expect(problems.join("\n")).not.toContain(OLD_CERT);
  });

  it("refuses the App Certificate again as the secondary, in any letter case", () => {
    for (const secondary of [CERT, CERT.toUpperCase()]) {
      expect(
        problemsOf({ APP_ID, APP_CERTIFICATE: CERT, APP_CERTIFICATE_SECONDARY: secondary }),
      ).toEqual([
        "APP_CERTIFICATE_SECONDARY must be the other certificate of the project, not APP_CERTIFICATE again",
      ]);
    }
  });

  it("refuses a secondary certificate without the credentials it belongs to", () => {
    expect(problemsOf({ APP_CERTIFICATE_SECONDARY: OLD_CERT })).toEqual([
      "APP_CERTIFICATE_SECONDARY needs APP_ID and APP_CERTIFICATE to be set too",
    ]);
  });
});
