import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDockerfile } from "../support/dockerfile.js";

const root = resolve(import.meta.dirname, "../..");
const packageJson = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  engines: { node: string };
};
const expectedMajor = process.env.EXPECTED_NODE_MAJOR;

type Version = [major: number, minor: number, patch: number];
const versionOf = (text: string): Version => {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`not a version: ${text}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
};

/** The `^x.y.z || ^…` alternatives of `engines.node`; any other form fails, to keep it readable. */
const engineFloors: Version[] = packageJson.engines.node.split("||").map((alternative) => {
  const match = /^\s*\^(\d+\.\d+\.\d+)\s*$/.exec(alternative);
  if (!match?.[1]) throw new Error(`engines.node: ${alternative} is not of the form ^x.y.z`);
  return versionOf(match[1]);
});
function enginesAdmit([major, minor, patch]: Version): boolean {
  return engineFloors.some(
    ([floorMajor, floorMinor, floorPatch]) =>
      major === floorMajor && (minor > floorMinor || (minor === floorMinor && patch >= floorPatch)),
  );
}

/** The Node major of the images the Dockerfile builds on (`node:<major>-…`). */
function imageMajors(): number[] {
  return parseDockerfile(join(root, "Dockerfile")).map((stage) => {
    const match = /^node:(\d+)[.-]/.exec(stage.image);
    if (!match) throw new Error(`not an official Node image: ${stage.image}`);
    return Number(match[1]);
  });
}

describe("the Node.js versions", () => {
  it("runs the suite on a Node that engines admits, the same in vitest and on PATH", () => {
    expect(enginesAdmit(versionOf(process.version)), process.version).toBe(true);
    // npm scripts, the build and tests that start `node` by name use the node on PATH.
    const onPath = execFileSync("node", ["-p", "process.version"], { encoding: "utf8" }).trim();
    expect(onPath).toBe(process.version);
  });

  it.runIf(expectedMajor !== undefined)(
    "runs on the major .ci/run asked for (EXPECTED_NODE_MAJOR)",
    () => {
      expect(process.versions.node.split(".")[0]).toBe(expectedMajor);
    },
  );

  it("builds the image on one even (LTS) major that engines admits, after Node 20's end of life", () => {
    const majors = new Set(imageMajors());
    expect(majors.size).toBe(1);
    const [major = 0] = majors;
    expect(major % 2).toBe(0);
    expect(major).toBeGreaterThan(20);
    expect(enginesAdmit([major, 0, 0])).toBe(true);
  });
});
