/**
 * Issue #14: config mistakes reach the user. `toold start` and `toold config reload` print the
 * warnings of vtcode.toml (unknown keys, near-misses, each with the nearest known key) on stderr,
 * the path once; the daemon hands them over in `daemon/status` and the `config/reload` result.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

describe("config warnings on stderr", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ toml: `[tools]\nprotected_path = ["x"]\n` });
  });
  after(async () => {
    await d.cleanup();
  });

  it("start prints them, the path once; status carries them", async () => {
    const file = path.join(d.root, "vtcode.toml");
    const start = await d.cli(["start"]);
    assert.equal(start.code, 0, start.stderr);
    assert.equal(
      start.stderr,
      `toold: warnings in ${file}:\n  line 2: unknown key tools.protected_path ignored; did you mean protected_paths?\n`,
    );
    const status = JSON.parse((await d.cli(["status", "--json"])).stdout) as {
      configWarnings?: { file: string; warnings: string[] };
    };
    assert.deepEqual(status.configWarnings, {
      file,
      warnings: ["line 2: unknown key tools.protected_path ignored; did you mean protected_paths?"],
    });
  });

  it("config reload prints the new file's warnings; a clean file prints none", async () => {
    await d.write({ "vtcode.toml": `[tools.policies]\ndelete_fiel = "deny"\n[demon]\nlog_level = "info"\n` });
    const reload = await d.cli(["config", "reload"]);
    assert.equal(reload.code, 0, reload.stderr);
    assert.equal(reload.stdout, "config reloaded\n");
    const lines = reload.stderr.trimEnd().split("\n");
    assert.match(lines[0] ?? "", /^toold: warnings in .*vtcode\.toml:$/);
    assert.match(
      lines[1] ?? "",
      /^ {2}line 2: tools\.policies\.delete_fiel names no toold tool.*did you mean delete_file\?$/,
    );
    assert.equal(lines[2], "  line 3: unknown section [demon] ignored; did you mean [daemon]?");
    await d.write({ "vtcode.toml": `[tools.policies]\ndelete_file = "deny"\n` });
    const clean = await d.cli(["config", "reload"]);
    assert.equal(clean.code, 0);
    assert.equal(clean.stderr, "");
    const status = JSON.parse((await d.cli(["status", "--json"])).stdout) as Record<string, unknown>;
    assert.equal(status.configWarnings, undefined);
  });
});
