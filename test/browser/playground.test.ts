import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { AccessToken2, ServiceRtc } from "agora-token/src/AccessToken2.js";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlaygroundAssets, playgroundRoute } from "../../src/server/http/playground-route.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import { type StaticSite, startStaticSite } from "../support/static-site.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasBrowser = existsSync(CHROMIUM);
const artifacts = resolve(import.meta.dirname, "../../test-artifacts");

if (!hasBrowser) {
  console.warn(`No browser at ${CHROMIUM} (set CHROMIUM_PATH): skipping the browser tests.`);
}

let service: TestServer;
let allowedSite: StaticSite;
let otherSite: StaticSite;
/** Two more token services that any page may call (CORS *): one the playground lists, one not. */
let listed: TestServer;
let unlisted: TestServer;
let context: BrowserContext;
let userDataDir: string;
/** The X-API-Key and Authorization headers of every RPC the service received. */
const credentialsSeen: string[] = [];
const listedSeen: string[] = [];
const unlistedSeen: string[] = [];

/** An interceptor that records the credential headers of every RPC in `seen`. */
function recordCredentials(seen: string[]): Interceptor {
  return (next) => (request) => {
    seen.push(`${request.header.get("x-api-key")} ${request.header.get("authorization")}`);
    return next(request);
  };
}

describe.skipIf(!hasBrowser)("the token playground in Chromium", () => {
  beforeAll(async () => {
    const assets = loadPlaygroundAssets();
    if (!assets) throw new Error("the playground is not built (the global setup builds it)");
    [allowedSite, otherSite] = await Promise.all([
      startStaticSite(assets),
      startStaticSite(assets),
    ]);
    const recordingService = (seen: string[]) =>
      startTestServer({ cors: { allowOrigin: "*" }, interceptors: [recordCredentials(seen)] });
    [listed, unlisted] = await Promise.all([
      recordingService(listedSeen),
      recordingService(unlistedSeen),
    ]);
    service = await startTestServer({
      cors: { allowOrigin: [allowedSite.origin] },
      httpRoutes: [playgroundRoute(assets, { serviceOrigins: [listed.baseUrl] })],
      interceptors: [recordCredentials(credentialsSeen)],
    });
    userDataDir = mkdtempSync(join(tmpdir(), "playground-chromium-"));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all(
      [service, listed, unlisted, allowedSite, otherSite].map((server) => server?.close()),
    );
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  /** Opens the page and records the content type of every call it makes to the service. */
  async function open(url: string): Promise<{ page: Page; calls: string[] }> {
    const page = await context.newPage();
    const calls: string[] = [];
    page.on("request", (request) => {
      if (request.url().startsWith(`${service.baseUrl}/agora.token.v1.TokenService/`)) {
        calls.push(`${request.method()} ${request.headers()["content-type"] ?? ""}`);
      }
    });
    await page.goto(url);
    return { page, calls };
  }

  async function mintRtc(page: Page, protocol: "connect" | "grpc-web"): Promise<string> {
    await page.selectOption("#protocol", protocol);
    await page.selectOption("#mint-kind", "rtc");
    await page.fill("#channel", "room 42");
    await page.fill("#uid", "2882341273");
    await page.selectOption("#role", "publisher");
    await page.fill("#expire", "600");
    await page.click("#mint");
    // The page clears the previous result when an action starts.
    const label = protocol === "grpc-web" ? "gRPC-Web" : "Connect";
    await page.locator("#status", { hasText: `Minted and inspected over ${label}.` }).waitFor();
    await page.waitForSelector("#services-table");
    return page.inputValue("#minted-token");
  }

  it("mints a token served from the service's own origin and shows its inspection", async () => {
    const { page } = await open(`${service.baseUrl}/`);
    const token = await mintRtc(page, "connect");

    const decoded = decodeToken(token);
    expect(decoded.signatureValid).toBe(true);
    expect(decoded.services).toEqual([
      {
        type: 1,
        channel: "room 42",
        uid: "2882341273",
        privileges: privilegesFor([1, 2, 3, 4], 600),
      },
    ]);
    const tokenTable = (await page.locator("#token-table tr").allInnerTexts()).join("\n");
    expect(tokenTable).toContain(SAMPLE.appId);
    expect(tokenTable).toContain("this service's App ID");
    expect(tokenTable).toMatch(/Signature\s+valid/);
    expect(tokenTable).toMatch(/in (9m \d+s|10m)$/m);
    const rows = await page.locator("#services-table tbody tr").allInnerTexts();
    expect(rows.map((row) => row.split("\t").slice(0, 4))).toEqual([
      ["RTC (1)", "room 42", "2882341273", "join_channel (1)"],
      ["RTC (1)", "room 42", "2882341273", "publish_audio_stream (2)"],
      ["RTC (1)", "room 42", "2882341273", "publish_video_stream (3)"],
      ["RTC (1)", "room 42", "2882341273", "publish_data_stream (4)"],
    ]);
    expect(await page.locator("#error").isHidden()).toBe(true);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "playground.png"), fullPage: true });
    await page.close();
  }, 60_000);

  it("shows each kind's fields and mints RTC + RTM and agent tokens with privilege lifetimes", async () => {
    const { page } = await open(`${service.baseUrl}/`);
    const visible = async () => {
      const fields: Record<string, boolean> = {};
      for (const id of [
        "channel",
        "role",
        "agent-kind",
        "rtm-user-id",
        "rtm-expire",
        "privilege-expire",
      ]) {
        fields[id] = await page.locator(`#${id}`).isVisible();
      }
      return fields;
    };
    await page.selectOption("#mint-kind", "chat");
    expect(await visible()).toEqual({
      channel: false,
      role: false,
      "agent-kind": false,
      "rtm-user-id": false,
      "rtm-expire": false,
      "privilege-expire": false,
    });
    await page.selectOption("#mint-kind", "rtc");
    expect(await visible()).toMatchObject({
      channel: true,
      role: true,
      "privilege-expire": true,
      "rtm-user-id": false,
    });

    await page.selectOption("#mint-kind", "rtc_rtm");
    expect(await visible()).toMatchObject({
      "agent-kind": false,
      "rtm-user-id": true,
      "rtm-expire": true,
    });
    await page.fill("#channel", "live 7");
    await page.fill("#uid", "2882341273");
    await page.selectOption("#role", "publisher");
    await page.fill("#rtm-user-id", "alice");
    await page.fill("#expire", "900");
    await page.fill("#rtm-expire", "600");
    await page.fill("#publish-audio-expire", "300");
    await page.fill("#publish-video-expire", "300");
    await page.click("#mint");
    await page.locator("#status", { hasText: "Minted and inspected over Connect." }).waitFor();
    const rtcRtm = decodeToken(await page.inputValue("#minted-token"));
    expect(rtcRtm.signatureValid).toBe(true);
    expect(rtcRtm.services).toEqual([
      {
        type: 1,
        channel: "live 7",
        uid: "2882341273",
        privileges: { 1: 900, 2: 300, 3: 300, 4: 900 },
      },
      { type: 2, userId: "alice", privileges: { 1: 600 } },
    ]);
    const rows = await page.locator("#services-table tbody tr").allInnerTexts();
    expect(rows.map((row) => row.split("\t").slice(0, 5))).toEqual([
      ["RTC (1)", "live 7", "2882341273", "join_channel (1)", "15m"],
      ["RTC (1)", "live 7", "2882341273", "publish_audio_stream (2)", "5m"],
      ["RTC (1)", "live 7", "2882341273", "publish_video_stream (3)", "5m"],
      ["RTC (1)", "live 7", "2882341273", "publish_data_stream (4)", "15m"],
      ["RTM (2)", "", "alice", "login (1)", "10m"],
    ]);
    const tokenTable = (await page.locator("#token-table tr").allInnerTexts()).join("\n");
    expect(tokenTable).toMatch(/Signature\s+valid \(signed with the App Certificate\)/);
    expect(tokenTable).toMatch(/First privilege expires\s+\S+Z\s+in (5m|4m \d+s)/);

    await page.selectOption("#mint-kind", "agent");
    await page.selectOption("#agent-kind", "convoai");
    await page.fill("#uid", "1001");
    await page.fill("#rtm-user-id", "");
    await page.fill("#rtm-expire", "");
    await page.fill("#publish-audio-expire", "");
    await page.fill("#publish-video-expire", "");
    await page.fill("#privilege-expire", "600");
    await page.click("#mint");
    await page.locator("#services-table", { hasText: "ConvoAI (9)" }).waitFor();
    expect(decodeToken(await page.inputValue("#minted-token")).services).toEqual([
      { type: 1, channel: "live 7", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 600) },
      { type: 2, userId: "1001", privileges: { 1: 900 } },
      { type: 9, privileges: {} },
    ]);
    const agentRows = await page.locator("#services-table tbody tr").allInnerTexts();
    expect(agentRows.at(-1)?.split("\t").slice(0, 4)).toEqual(["ConvoAI (9)", "", "", "none"]);
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "playground-agent.png"), fullPage: true });

    // A request the rules refuse is shown with the field it breaks.
    await page.fill("#privilege-expire", "1000");
    await page.click("#mint");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.locator("#error").textContent()).toBe(
      "InvalidArgument: agent.rtc_rtm.privilege_expire_seconds must be at most the token's lifetime of 900 seconds (0 means as long as the token)",
    );
    await page.close();
  }, 60_000);

  it("works from another origin that CORS_ALLOW_ORIGIN allows, over Connect and gRPC-Web", async () => {
    const { page, calls } = await open(`${allowedSite.origin}/?server=${service.baseUrl}`);
    expect(await page.inputValue("#server-url")).toBe(service.baseUrl);

    // Credentials go through the CORS preflight like any browser client's, once the person
    // has confirmed that this other origin may have them. (One of them: the client refuses an
    // API key and a JWT together, which the service would answer 401.)
    await page.fill("#jwt", "aaa.bbb.ccc");
    credentialsSeen.length = 0;
    expect(await page.locator("#server-notice").textContent()).toContain(
      `The Service URL is on ${service.baseUrl}, not on ${allowedSite.origin}`,
    );
    await page.click("#mint");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.locator("#error").textContent()).toMatch(
      /^Not sent: your API key or JWT would go to http:\/\/127\.0\.0\.1:\d+, which is not where this page came from\./,
    );
    expect(credentialsSeen).toEqual([]);
    await page.check("#trust-server");
    const overConnect = await mintRtc(page, "connect");
    expect(decodeToken(overConnect).signatureValid).toBe(true);
    const overGrpcWeb = await mintRtc(page, "grpc-web");
    expect(decodeToken(overGrpcWeb).signatureValid).toBe(true);
    expect(calls).toEqual([
      "POST application/json",
      "POST application/json",
      "POST application/grpc-web+proto",
      "POST application/grpc-web+proto",
    ]);
    expect(new Set(credentialsSeen)).toEqual(new Set(["null Bearer aaa.bbb.ccc"]));

    // A pasted token signed elsewhere, long expired: the table says both.
    const foreign = new AccessToken2(
      SAMPLE.appId,
      "0123456789abcdef0123456789abcdef",
      1_700_000_000,
      60,
    );
    const rtc = new ServiceRtc("old", "7");
    rtc.add_privilege(1, 60);
    foreign.add_service(rtc);
    await page.fill("#token", `  ${foreign.build()}\n`);
    await page.click("#inspect");
    await page.locator("#services-table", { hasText: "old" }).waitFor();
    const table = (await page.locator("#token-table tr").allInnerTexts()).join("\n");
    expect(table).toContain("not valid for this service's certificate");
    expect(table).toMatch(/expired \d+h( \d+m)?( \d+s)? ago/);
    await page.close();
  }, 60_000);

  it("never sends typed credentials to a ?server= origin nobody chose", async () => {
    const { page } = await open(`${service.baseUrl}/?server=${unlisted.baseUrl}`);
    expect(await page.inputValue("#server-url")).toBe(unlisted.baseUrl);
    const notice = page.locator("#server-notice");
    expect(await notice.isVisible()).toBe(true);
    expect(await notice.textContent()).toContain(`The Service URL is on ${unlisted.baseUrl}`);
    await page.fill("#api-key", "key-123");
    await page.click("#mint");
    await page.waitForSelector("#error:not([hidden])");
    expect(await page.locator("#error").textContent()).toMatch(/^Not sent: /);

    // Even confirmed, the page's CSP lets it call only its own origin and the listed services.
    await page.check("#trust-server");
    await page.click("#mint");
    await page.locator("#error", { hasText: "PLAYGROUND_SERVICE_ORIGINS" }).waitFor();
    expect(await page.locator("#error").textContent()).toBe(
      `This page may not call ${unlisted.baseUrl}: the service that serves it lists the other services it may call in PLAYGROUND_SERVICE_ORIGINS.`,
    );
    expect(await page.inputValue("#minted-token")).toBe("");
    expect(unlistedSeen).toEqual([]);

    // Changing the Service URL takes the confirmation back.
    await page.fill("#server-url", `${unlisted.baseUrl}/`);
    await page.fill("#server-url", listed.baseUrl);
    expect(await page.isChecked("#trust-server")).toBe(false);
    await page.close();
  }, 60_000);

  it("calls a service the page lists once the person confirms it, with the credentials", async () => {
    const { page } = await open(`${service.baseUrl}/?server=${listed.baseUrl}`);
    await page.fill("#api-key", "key-456");
    await page.click("#mint");
    await page.waitForSelector("#error:not([hidden])");
    expect(listedSeen).toEqual([]);
    await page.check("#trust-server");
    await page.click("#mint");
    await page.locator("#status", { hasText: "Minted and inspected over Connect." }).waitFor();
    expect(decodeToken(await page.inputValue("#minted-token")).signatureValid).toBe(true);
    expect(new Set(listedSeen)).toEqual(new Set(["key-456 null"]));
    // Its own origin needs no confirmation; a ?server= that is not an http URL is ignored.
    await page.goto(`${service.baseUrl}/?server=javascript:alert(1)`);
    expect(await page.inputValue("#server-url")).toBe(service.baseUrl);
    expect(await page.locator("#server-notice").isHidden()).toBe(true);
    await page.close();
  }, 60_000);

  it("fails from an origin that CORS_ALLOW_ORIGIN does not allow", async () => {
    for (const protocol of ["connect", "grpc-web"] as const) {
      const { page } = await open(`${otherSite.origin}/?server=${service.baseUrl}`);
      await page.selectOption("#protocol", protocol);
      await page.click("#mint");
      await page.waitForSelector("#error:not([hidden])");
      expect((await page.locator("#error").allInnerTexts()).join("")).toMatch(
        /^(Unknown|Unavailable|Internal): /,
      );
      expect(await page.inputValue("#minted-token")).toBe("");
      await page.close();
    }
  }, 60_000);
});
