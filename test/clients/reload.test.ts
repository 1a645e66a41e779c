/**
 * Operators changing vtcode.toml under a running daemon: `toold config reload` and SIGHUP re-read
 * it; a new hot_cache_size shows in stats at once; a bad file is refused and the old config stays.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { makeTestDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";

describe("config reload", () => {
  let d: TestDaemon;
  const toml = (size: number | string) => `[optimization.tool_registry]\nhot_cache_size = ${size}\n`;
  const capacity = async () =>
    (JSON.parse((await d.cli(["stats", "--json"])).stdout) as { hotCache: { capacity: number } }).hotCache
      .capacity;
  const pid = async () => (JSON.parse((await d.cli(["status", "--json"])).stdout) as { pid: number }).pid;

  before(async () => {
    d = await makeTestDaemon({ toml: toml(4), files: { "a.txt": "a\n" } });
    assert.equal((await d.cli(["start"])).code, 0);
  });
  after(() => d.cleanup());

  it("applies a new hot_cache_size without a restart", async () => {
    const before = await pid();
    assert.equal(await capacity(), 4);
    await writeFile(path.join(d.root, "vtcode.toml"), toml(8));
    const r = await d.cli(["config", "reload"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "config reloaded\n");
    assert.equal(await capacity(), 8);
    assert.equal(await pid(), before);
  });

  it("refuses an invalid file with exit 1 and the reason, and keeps the old config", async () => {
    await writeFile(path.join(d.root, "vtcode.toml"), `# a comment\n${toml('"big"')}`);
    const r = await d.cli(["config", "reload"]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /line 3: optimization\.tool_registry\.hot_cache_size must be an integer from 1 to 4096 \(got "big"\)/,
    );
    assert.equal(await capacity(), 8);
    const config = JSON.parse((await d.cli(["config", "get"])).stdout) as {
      optimization: { tool_registry: { hot_cache_size: number } };
    };
    assert.equal(config.optimization.tool_registry.hot_cache_size, 8);

    await writeFile(path.join(d.root, "vtcode.toml"), "[optimization.tool_registry\n");
    const syntax = await d.cli(["config", "reload"]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /TOML syntax error/);
    assert.equal(await capacity(), 8);
    // The daemon still serves calls.
    assert.equal((await d.cli(["call", "read_file", "path=a.txt"])).stdout, "a\n");
  });

  it("re-reads the file on SIGHUP, and keeps the old config (logging why) when it is bad", async () => {
    const daemonPid = await pid();
    await writeFile(path.join(d.root, "vtcode.toml"), toml(12));
    process.kill(daemonPid, "SIGHUP");
    await waitFor(async () => (await capacity()) === 12, 10_000, "hot_cache_size 12 after SIGHUP");

    await writeFile(path.join(d.root, "vtcode.toml"), toml(0));
    process.kill(daemonPid, "SIGHUP");
    await waitFor(
      async () => /config reload failed; old config kept/.test((await d.cli(["logs", "-n", "all"])).stdout),
      10_000,
      "the failed reload in the log",
    );
    const logs = (await d.cli(["logs", "-n", "all"])).stdout;
    assert.match(
      logs,
      /ERROR .*config reload failed; old config kept .*hot_cache_size must be an integer from 1 to 4096/,
    );
    assert.equal(await capacity(), 12);
    assert.equal(await pid(), daemonPid);
  });
});
