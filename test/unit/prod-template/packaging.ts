/** What was packaged: bundles that load, and nothing local or secret in the template. */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { it } from "node:test";
import JSZip from "jszip";
import { FUNCTIONS } from "./expected.ts";
import { execFileP, ROOT } from "./service.ts";
import { readerOf, type PackagedTemplate } from "./template.ts";

export function packagingTests(t: PackagedTemplate): void {
  const { fn, env } = readerOf(t);

  it("packages each function as a bundle that loads on the runtime's Node and exports its handler", async () => {
    const { dir } = t;
    // The start command runs the handlers from source; this is where the bundles that deploy are run.
    const bundles = await mkdtemp(path.join(tmpdir(), "gozon-bundles-"));
    try {
      const entries: Array<[string, string]> = [];
      for (const key of FUNCTIONS) {
        const handler = (fn(key).Properties.Handler as string).split(".");
        const file = `${handler.slice(0, -1).join(".")}.cjs`;
        const zip = await JSZip.loadAsync(await readFile(path.join(dir, "out", `${key}.zip`)));
        const code = await zip.file(file)?.async("nodebuffer");
        assert.ok(code, `${key}.zip holds ${file}`);
        await mkdir(path.dirname(path.join(bundles, key, file)), { recursive: true });
        await writeFile(path.join(bundles, key, file), code);
        entries.push([path.join(bundles, key, file), handler.at(-1)!]);
      }
      // Lambda's Node runtime brings the SDK's clients, which the bundles leave out.
      const probe = `for (const [file, name] of ${JSON.stringify(entries)}) if (typeof require(file)[name] !== "function") throw new Error(file + " exports no " + name);`;
      await execFileP(process.execPath, ["-e", probe], {
        env: { ...process.env, NODE_PATH: path.join(ROOT, "node_modules") },
        timeout: 60_000,
      });
    } finally {
      await rm(bundles, { recursive: true, force: true });
    }
  });

  it("has no localhost, no shared role and no secret resolved into the template anywhere", () => {
    const { resources, text } = t;
    for (const local of ["127.0.0.1", "localhost", "http://", ":55432", ":9092", "{{resolve:"]) {
      assert.ok(!text.includes(local), `the prod template contains ${local}`);
    }
    assert.equal(resources.IamRoleLambdaExecution, undefined);
  });

  it("holds no password in any function's environment", () => {
    for (const key of FUNCTIONS) {
      for (const [name, value] of Object.entries(env(key))) {
        assert.doesNotMatch(name, /PASSWORD$|SECRET$/, `${key}: ${name} is no password`);
        const text = JSON.stringify(value);
        assert.ok(!text.includes("{{resolve:"), `${key}: ${name} resolves nothing at deploy time`);
        for (const url of text.match(/postgres(ql)?:\/\/[^"\s]+/g) ?? [])
          assert.equal(new URL(url).password, "", `${key}: ${name} holds a URL with a password`);
      }
    }
  });
}
