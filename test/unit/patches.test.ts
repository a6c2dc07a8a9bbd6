import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

/**
 * No private patch: every file in patches/ (applied by patch-package after `npm ci`) has a section
 * of its own in docs/patches.md and a test that names it and proves what it changes.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const THIS_TEST = fileURLToPath(import.meta.url);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

const patches = (await filesUnder(path.join(ROOT, "patches"))).map((file) =>
  path.relative(path.join(ROOT, "patches"), file),
);
const docs = await readFile(path.join(ROOT, "docs", "patches.md"), "utf8").catch(() => "");
const testDirs = [
  path.join(ROOT, "test"),
  ...(await readdir(path.join(ROOT, "packages"))).map((name) => path.join(ROOT, "packages", name, "test")),
];
const testFiles = (await Promise.all(testDirs.map(filesUnder)))
  .flat()
  .filter((file) => /\.[cm]?[jt]s$/.test(file) && file !== THIS_TEST);
const testTexts = await Promise.all(testFiles.map((file) => readFile(file, "utf8")));

describe("every patch of a dependency is one a user can see", () => {
  it("finds the patches", () => assert.ok(patches.length > 0, "patches/ is empty: this test would prove nothing"));

  for (const patch of patches) {
    it(`${patch} has a section in docs/patches.md`, () => {
      const heading = docs.split("\n").find((line) => /^#{2,3} /.test(line) && line.includes(patch));
      assert.ok(heading, `docs/patches.md has no "## patches/${patch}" section saying what it changes and why`);
    });

    it(`${patch} is named by a test`, () => {
      assert.ok(
        testTexts.some((text) => text.includes(patch)),
        `no test under test/ or packages/*/test names ${patch}: add one that proves what it changes`,
      );
    });
  }
});
