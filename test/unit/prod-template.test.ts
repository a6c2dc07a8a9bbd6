import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { after, before, describe } from "node:test";
import { alarmTests } from "./prod-template/alarms.ts";
import { kafkaTests } from "./prod-template/kafka.ts";
import { packagingTests } from "./prod-template/packaging.ts";
import { roleTests } from "./prod-template/roles.ts";
import { LEAKY_SHELL, serviceCopy, sls, STAGE } from "./prod-template/service.ts";
import { settingsTests } from "./prod-template/settings.ts";
import { signInTests } from "./prod-template/sign-in.ts";
import { stageSettingsTests } from "./prod-template/stage-settings.ts";
import type { PackagedTemplate, Resource } from "./prod-template/template.ts";

/**
 * `sls package --stage prod` with the sample stage file, offline, in a copy of the service (so the
 * bundler's work folder never touches the one a running `npm start` uses), then the template as
 * CloudFormation would get it. The suite packages once; its tests, grouped by what they check,
 * live in prod-template/.
 */

describe(
  "the prod template (sls package --stage prod with stages/prod.sample.yml, offline)",
  { timeout: 300_000 },
  () => {
    let dir: string;
    let template: { Resources: Record<string, Resource> };
    let resources: Record<string, Resource>;
    let text: string;

    before(async () => {
      dir = await serviceCopy();
      const packaged = await sls(dir, ["package", "--stage", STAGE, "--package", path.join(dir, "out")], {
        ...LEAKY_SHELL,
        GOZON_STAGE_FILE: "stages/prod.sample.yml",
      });
      assert.ok(packaged.ok, `sls package failed:\n${packaged.output}`);
      text = await readFile(path.join(dir, "out", "cloudformation-template-update-stack.json"), "utf8");
      template = JSON.parse(text) as typeof template;
      resources = template.Resources;
    });

    after(async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const packaged: PackagedTemplate = {
      get dir() {
        return dir;
      },
      get text() {
        return text;
      },
      get resources() {
        return resources;
      },
    };
    packagingTests(packaged);
    roleTests(packaged);
    settingsTests(packaged);
    kafkaTests(packaged);
    alarmTests(packaged);
    signInTests(packaged);
  },
);

describe("stage settings", () => {
  stageSettingsTests();
});
