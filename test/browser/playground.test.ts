import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import { AccessToken2, ServiceRtc } from "agora-token/src/AccessToken2.js";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadPlaygroundAssets, playgroundRoute } from "../../src/server/http/playground-route.js";
import { CHROMIUM, hasBrowser, launchChromium, pngSize } from "../support/chromium.js";
import { decodeToken, privilegesFor, SAMPLE } from "../support/decode-token.js";
import { type StaticSite, startStaticSite } from "../support/static-site.js";
import { startTestServer, type TestServer } from "../support/test-server.js";

if (!hasBrowser) {
  console.warn(`No browser at ${CHROMIUM} (set CHROMIUM_PATH): skipping the browser tests.`);
}

/** A project's own credentials: tokens that Agora would accept for that project. */
const PROJECT = { appId: "0123456789abcdef0123456789abcdef", appCertificate: "f".repeat(32) };
const DEMO_WARNING =
  "Signed with the public demo credentials: Agora refuses this token. The service needs your project's APP_ID and APP_CERTIFICATE for tokens that join.";

let service: TestServer;
/** A service with a project's credentials, serving the playground. */
let project: TestServer;
/** Screenshots go here, never into the repository. */
let screenshots: string;
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
    project = await startTestServer({
      service: { credentials: PROJECT },
      httpRoutes: [playgroundRoute(assets)],
    });
    userDataDir = mkdtempSync(join(tmpdir(), "playground-chromium-"));
    screenshots = mkdtempSync(join(tmpdir(), "playground-screenshots-"));
    context = await launchChromium(userDataDir);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await Promise.all(
      [service, project, listed, unlisted, allowedSite, otherSite].map((server) => server?.close()),
    );
    for (const dir of [userDataDir, process.env.KEEP_SCREENSHOTS ? undefined : screenshots]) {
      if (dir) rmSync(dir, { recursive: true, force: true });
    }
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

  /** The text of the error under an action, once it shows. */
  async function errorOf(page: Page, action: "mint" | "inspect"): Promise<string> {
    await page.waitForSelector(`#${action}-error:not([hidden])`);
    return (await page.locator(`#${action}-error`).textContent()) ?? "";
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
    const { page } = await open(`${project.baseUrl}/`);
    const token = await mintRtc(page, "connect");

    const decoded = decodeToken(token, PROJECT.appCertificate);
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
    expect(tokenTable).toContain(PROJECT.appId);
    expect(tokenTable).toContain("this service's App ID");
    expect(tokenTable).toMatch(/Signature\s+valid/);
    expect(await page.locator("#minted-demo").isHidden()).toBe(true);
    expect(await page.locator("#inspection-demo").count()).toBe(0);
    expect(tokenTable).toMatch(/in (9m \d+s|10m)$/m);
    const rows = await page.locator("#services-table tbody tr").allInnerTexts();
    expect(rows.map((row) => row.split("\t").slice(0, 4))).toEqual([
      ["RTC (1)", "room 42", "2882341273", "join_channel (1)"],
      ["RTC (1)", "room 42", "2882341273", "publish_audio_stream (2)"],
      ["RTC (1)", "room 42", "2882341273", "publish_video_stream (3)"],
      ["RTC (1)", "room 42", "2882341273", "publish_data_stream (4)"],
    ]);
    expect(
      await page.locator(".error").evaluateAll((boxes) => boxes.map((box) => box.hidden)),
    ).toEqual([true, true]);
    await page.close();
  }, 60_000);

  it("shows each kind's fields and mints RTC + RTM and agent tokens with privilege lifetimes", async () => {
    const { page } = await open(`${project.baseUrl}/`);
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
    const rtcRtm = decodeToken(await page.inputValue("#minted-token"), PROJECT.appCertificate);
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
    expect(
      decodeToken(await page.inputValue("#minted-token"), PROJECT.appCertificate).services,
    ).toEqual([
      { type: 1, channel: "live 7", uid: "1001", privileges: privilegesFor([1, 2, 3, 4], 600) },
      { type: 2, userId: "1001", privileges: { 1: 900 } },
      { type: 9, privileges: {} },
    ]);
    const agentRows = await page.locator("#services-table tbody tr").allInnerTexts();
    expect(agentRows.at(-1)?.split("\t").slice(0, 4)).toEqual(["ConvoAI (9)", "", "", "none"]);

    // A request the rules refuse is shown under Mint, with the field it breaks.
    await page.fill("#privilege-expire", "1000");
    await page.click("#mint");
    expect(await errorOf(page, "mint")).toBe(
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
    expect(await errorOf(page, "mint")).toMatch(
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
    expect(await errorOf(page, "mint")).toMatch(/^Not sent: /);

    // Even confirmed, the page's CSP lets it call only its own origin and the listed services.
    await page.check("#trust-server");
    await page.click("#mint");
    await page.locator("#mint-error", { hasText: "PLAYGROUND_SERVICE_ORIGINS" }).waitFor();
    expect(await page.locator("#mint-error").textContent()).toBe(
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
    await errorOf(page, "mint");
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

  it("says which origin to add to CORS_ALLOW_ORIGIN when the service does not allow the page's", async () => {
    for (const protocol of ["connect", "grpc-web"] as const) {
      const { page } = await open(`${otherSite.origin}/?server=${service.baseUrl}`);
      await page.selectOption("#protocol", protocol);
      await page.click("#mint");
      expect(await errorOf(page, "mint")).toBe(
        `${service.baseUrl} answers but does not let pages from ${otherSite.origin} call it: add ${otherSite.origin} to that service's CORS_ALLOW_ORIGIN (comma-separated origins), or open the playground it serves at ${service.baseUrl}/. If ${service.baseUrl} is not a token service, correct the Service URL.`,
      );
      expect(await page.inputValue("#minted-token")).toBe("");
      await page.close();
    }
  }, 60_000);

  it("tells a service that is down from a URL that is not a token service", async () => {
    // A port nothing listens on any more.
    const gone = await startTestServer();
    await gone.close();
    const { page } = await open(`${otherSite.origin}/?server=${gone.baseUrl}`);
    await page.click("#mint");
    expect(await errorOf(page, "mint")).toBe(
      `No service answers at ${gone.baseUrl}: it is not running, or the host or port in the Service URL is wrong.`,
    );
    await page.close();

    // The service's own origin, with a path: something answers, but not the token service.
    const wrong = await open(`${service.baseUrl}/?server=${service.baseUrl}/api`);
    // gRPC-Web reads the status; Connect reads the JSON 404 body, which is no Connect error.
    for (const [protocol, answer] of [
      ["connect", "not found"],
      ["grpc-web", "HTTP 404"],
    ] as const) {
      await wrong.page.selectOption("#protocol", protocol);
      await wrong.page.click("#inspect");
      expect(await errorOf(wrong.page, "inspect")).toBe(
        `${service.baseUrl}/api is not a token service: it answered ${answer} to a TokenService call. The Service URL is the address the service listens on, without a path (such as http://localhost:8080).`,
      );
    }
    await wrong.page.close();
  }, 60_000);

  it("shows each error under the action that failed and clears it when the next one starts", async () => {
    const { page } = await open(`${service.baseUrl}/`);
    const shown = () =>
      page
        .locator(".error")
        .evaluateAll((boxes) =>
          boxes.map((box) => (box.hidden ? "" : `${box.id}: ${box.textContent}`)),
        );
    await page.fill("#token", "006abc");
    await page.click("#inspect");
    await errorOf(page, "inspect");
    expect(await shown()).toEqual([
      "",
      "inspect-error: InvalidArgument: token is an AccessToken (006) and only AccessToken2 (007) tokens can be read",
    ]);

    // The browser's own check stops this one before it is sent: the old error still goes, and
    // the new one says which field, under Mint.
    await page.fill("#expire", "90000");
    await page.click("#mint");
    await page.waitForSelector("#mint-error:not([hidden])");
    const [mintError, inspectError] = await shown();
    expect(mintError).toMatch(/^mint-error: Expire \(seconds\): .*86400/);
    expect(inspectError).toBe("");
    // Pressing Enter in a field starts the action too.
    await page.fill("#expire", "600");
    await page.fill("#channel", "");
    await page.press("#uid", "Enter");
    await page.locator("#mint-error", { hasText: "rtc.channel is required" }).waitFor();

    // One credential at a time, said by the page before anything is sent.
    await page.fill("#api-key", "key-123");
    await page.fill("#jwt", "aaa.bbb.ccc");
    await page.click("#inspect");
    expect(await errorOf(page, "inspect")).toBe(
      "Type an API key or a JWT, not both: the service refuses a call that carries two credentials.",
    );
    expect(await shown()).toEqual([
      "",
      "inspect-error: Type an API key or a JWT, not both: the service refuses a call that carries two credentials.",
    ]);
    await page.close();
  }, 60_000);

  it("says next to every token the demo credentials signed that Agora refuses it", async () => {
    const { page } = await open(`${service.baseUrl}/`);
    const token = await mintRtc(page, "grpc-web");
    expect(decodeToken(token).signatureValid).toBe(true);
    expect(await page.locator("#minted-demo").textContent()).toBe(DEMO_WARNING);
    expect(await page.locator("#minted-demo").isVisible()).toBe(true);
    expect(await page.locator("#inspection-demo").textContent()).toBe(DEMO_WARNING);
    const tokenTable = (await page.locator("#token-table tr").allInnerTexts()).join("\n");
    expect(tokenTable).toContain(`${SAMPLE.appId}\tthe public demo App ID`);
    expect(tokenTable).toMatch(
      /Signature\s+signed with the public demo credentials so Agora rejects this token/,
    );
    expect(tokenTable).not.toMatch(/this service's App ID|valid/);
    // Nothing in the table is green but the time left.
    expect(await page.locator("#token-table .good:not(.countdown)").count()).toBe(0);

    // Pasted into a service with a project's credentials, a demo token is named just the same.
    const other = await open(`${project.baseUrl}/`);
    await other.page.fill("#token", token);
    await other.page.click("#inspect");
    await other.page.locator("#status", { hasText: "Inspected over Connect." }).waitFor();
    expect(await other.page.locator("#inspection-demo").textContent()).toBe(DEMO_WARNING);
    expect(await other.page.locator("#minted-demo").isHidden()).toBe(true);
    await Promise.all([page.close(), other.page.close()]);
  }, 60_000);

  it("copies the minted token, and the page loads without a failed request", async () => {
    const { page } = await open(`${project.baseUrl}/`);
    const failed: string[] = [];
    page.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    await page.reload();
    await context.grantPermissions(["clipboard-read", "clipboard-write"], {
      origin: project.baseUrl,
    });
    expect(await page.isDisabled("#copy-token")).toBe(true);
    const token = await mintRtc(page, "connect");
    await page.click("#copy-token");
    await page.locator("#copy-status", { hasText: "Copied" }).waitFor();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(token);
    expect(failed).toEqual([]);
    // What the browser asks for by itself.
    expect((await page.request.get(`${project.baseUrl}/favicon.ico`)).status()).toBe(204);
    await page.close();
  }, 60_000);

  it("fits desktop and phone screens after a mint and an inspection, in screenshots", async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      const { page } = await open(`${service.baseUrl}/`);
      await page.setViewportSize({ width, height });
      // A long token: the longest channel and RTM user, and an agent service on top.
      await page.selectOption("#mint-kind", "agent");
      await page.fill("#channel", "c".repeat(64));
      await page.fill("#uid", "2882341273");
      await page.fill("#rtm-user-id", "u".repeat(64));
      await page.fill("#publish-audio-expire", "300");
      await page.click("#mint");
      await page.locator("#services-table", { hasText: "ConvoAI (9)" }).waitFor();
      await page.click("#inspect");
      await page.locator("#status", { hasText: "Inspected over Connect." }).waitFor();
      expect(await page.locator("#services-table tbody tr").count()).toBe(6);

      expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
        width,
      );
      const path = join(screenshots, `playground-${width}.png`);
      // KEEP_SCREENSHOTS=1 keeps them and prints where, to look at them.
      if (process.env.KEEP_SCREENSHOTS) console.log(path);
      const png = await page.screenshot({ path, fullPage: true });
      const size = pngSize(png);
      // The whole page, as wide as the screen: nothing sticks out to the side.
      expect(size.width).toBe(width);
      expect(size.height).toBeGreaterThanOrEqual(height);
      expect(png.length).toBeGreaterThan(10_000);
      // Every cell of the inspection is inside the screen, the warning above it too.
      const outside = await page
        .locator("#inspection td, #inspection th, #inspection-demo, #minted-demo")
        .evaluateAll(
          (nodes, right) =>
            nodes.filter((node) => node.getBoundingClientRect().right > right).length,
          width,
        );
      expect(outside).toBe(0);
      await page.close();
    }
  }, 60_000);
});
