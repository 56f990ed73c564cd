/**
 * Regenerates docs/playground.png, the README's picture of the token playground: the page in
 * Debian's Chromium (or CHROMIUM_PATH) at 1280×800, full height, after minting an RTC token and
 * inspecting it, against a service on a free loopback port signing with the demo credentials.
 * Written with a palette of 256 colours to stay small.
 *
 *   npm run screenshot:playground
 *   npm run screenshot:playground -- --width 390 --out /tmp/phone.png
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { createServer } from "../src/server/create-server.js";
import { loadPlaygroundAssets, playgroundRoute } from "../src/server/http/playground-route.js";
import { createTokenService } from "../src/service/create-token-service.js";
import { DEMO_CREDENTIALS } from "../src/token/credentials.js";
import { launchChromium } from "../test/support/chromium.js";
import { buildPlayground } from "./build-playground.mjs";

const root = resolve(import.meta.dirname, "..");
const { values } = parseArgs({
  options: {
    width: { type: "string", default: "1280" },
    height: { type: "string", default: "800" },
    out: { type: "string", default: join(root, "docs", "playground.png") },
  },
});

const work = mkdtempSync(join(tmpdir(), "playground-screenshot-"));
const assets = loadPlaygroundAssets(await buildPlayground(join(work, "playground")));
if (!assets) throw new Error("the playground did not build");
const server = createServer({
  service: createTokenService({ credentials: DEMO_CREDENTIALS }),
  cors: { allowOrigin: [] },
  httpRoutes: [playgroundRoute(assets)],
});
const { port } = await server.listen(0, "127.0.0.1");
const context = await launchChromium(join(work, "profile"));
try {
  const page = await context.newPage();
  await page.setViewportSize({ width: Number(values.width), height: Number(values.height) });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.fill("#channel", "my-channel");
  await page.fill("#uid", "2882341273");
  await page.fill("#expire", "3600");
  await page.fill("#publish-audio-expire", "600");
  await page.fill("#publish-video-expire", "600");
  await page.click("#mint");
  await page.locator("#status", { hasText: "Minted and inspected" }).waitFor();
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(values.out, png);
  const kib = Math.round(png.length / 1024);
  console.log(`wrote ${relative(process.cwd(), values.out)} (${kib} KiB)`);
} finally {
  await context.close();
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
