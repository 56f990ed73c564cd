// `npm run build:client`: the client package (agora-token-service-client) in dist-client/, from the
// same sources as the server package's ./client, ./web and ./gen: the generated messages, the
// Node client (connect-node) and the browser client (connect-web), and nothing of the server.
// Its manifest is written here from the server's, so that versions never drift apart.
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const outDir = join(root, "dist-client");
const server = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.client.json"],
  { cwd: root, stdio: "inherit" },
);

/** A peer range from the server's exact pin: the same major, this release or a later one. */
const peer = (name) => `^${server.dependencies[name]}`;
const entry = (path) => ({ types: `./${path}.d.ts`, default: `./${path}.js` });
const manifest = {
  name: "agora-token-service-client",
  version: server.version,
  description:
    "Typed clients of the Agora token service for Node (Connect, gRPC, gRPC-Web) and browsers (Connect, gRPC-Web), without the server",
  license: server.license,
  type: "module",
  sideEffects: false,
  exports: {
    ".": entry("src/client/messages"),
    "./node": entry("src/client/index"),
    "./web": entry("src/web/index"),
    "./package.json": "./package.json",
  },
  files: ["src", "gen"],
  engines: server.engines,
  // The consumer's own Connect and protobuf-es runtimes, shared with its other clients. Node
  // callers add connect-node, browser callers connect-web: neither needs the other.
  peerDependencies: {
    "@bufbuild/protobuf": peer("@bufbuild/protobuf"),
    "@connectrpc/connect": peer("@connectrpc/connect"),
    "@connectrpc/connect-node": peer("@connectrpc/connect-node"),
    "@connectrpc/connect-web": peer("@connectrpc/connect-web"),
  },
  peerDependenciesMeta: {
    "@connectrpc/connect-node": { optional: true },
    "@connectrpc/connect-web": { optional: true },
  },
};
writeFileSync(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
copyFileSync(join(root, "LICENSE"), join(outDir, "LICENSE"));
copyFileSync(join(root, "src", "client", "README.md"), join(outDir, "README.md"));
