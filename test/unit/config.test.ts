import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ConfigError, defaultConfig, loadConfig, parseConfig } from "../../src/config/load.js";

test("defaults match the contract", () => {
  const c = defaultConfig();
  assert.equal(c.optimization.tool_registry.use_optimized_registry, true);
  assert.equal(c.optimization.tool_registry.hot_cache_size, 16);
  assert.equal(c.optimization.memory_pool.enabled, true);
  assert.equal(c.optimization.memory_pool.max_string_pool_size, 64);
  assert.equal(c.tools.default_policy, "allow");
  assert.deepEqual(c.tools.policies, {
    delete_file: "prompt",
    run_terminal_cmd: "prompt",
    exec_command: "prompt",
    write_stdin: "allow",
  });
  assert.deepEqual(c.exec, { max_sessions: 32, session_idle_timeout_secs: 3600 });
  assert.equal(c.daemon.idle_timeout_secs, 10800);
  assert.equal(c.daemon.log_level, "info");
  assert.equal(c.daemon.max_message_bytes, 16777216);
  assert.deepEqual(c.commands.allow_list, []);
});

test("values are read, sections VT Code owns are ignored, and the result is deeply frozen", () => {
  const { config, warnings } = parseConfig(
    `[agent]\nprovider = "x"\n[optimization.tool_registry]\nhot_cache_size = 32\n[tools.policies]\nread_file = "deny"\n`,
    "vtcode.toml",
  );
  assert.equal(config.optimization.tool_registry.hot_cache_size, 32);
  assert.equal(config.optimization.tool_registry.use_optimized_registry, true, "unset keys keep defaults");
  assert.deepEqual(config.tools.policies, {
    delete_file: "prompt",
    run_terminal_cmd: "prompt",
    exec_command: "prompt",
    write_stdin: "allow",
    read_file: "deny",
  });
  assert.deepEqual(warnings, []);
  assert.ok(Object.isFrozen(config.tools.policies));
  assert.throws(() => {
    (config.optimization.tool_registry as { hot_cache_size: number }).hot_cache_size = 1;
  }, TypeError);
});

test("one message per bad key, naming file, line, key and what was expected", () => {
  const text = `[optimization.tool_registry]\nhot_cache_size = "big"\nuse_optimized_registry = 1\n\n[daemon]\nlog_level = "loud"\n`;
  assert.throws(
    () => parseConfig(text, "/ws/vtcode.toml"),
    (err: ConfigError) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(err.problems, [
        '/ws/vtcode.toml:2: optimization.tool_registry.hot_cache_size must be an integer from 1 to 4096 (got "big")',
        "/ws/vtcode.toml:3: optimization.tool_registry.use_optimized_registry must be true or false (got 1)",
        `/ws/vtcode.toml:6: daemon.log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")`,
      ]);
      return true;
    },
  );
});

test("unknown keys in known sections are warnings, not errors", () => {
  const { warnings, config } = parseConfig(`[daemon]\nidle_timeout = 5\n`, "vtcode.toml");
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? "",
    /vtcode.toml:2: unknown key daemon.idle_timeout ignored \(known: idle_timeout_secs/,
  );
  assert.equal(config.daemon.idle_timeout_secs, 10800);
});

test("TOML syntax errors give line and column", () => {
  assert.throws(() => parseConfig(`[daemon]\nlog_level = \n`, "f.toml"), /f.toml:2:\d+: TOML syntax error/);
});

test("a bad policy value is rejected", () => {
  // The bad entry is named with its own line, not only the table.
  assert.throws(
    () => parseConfig(`[tools.policies]\ndelete_file = "maybe"\n`, "f.toml"),
    /f\.toml:2: tools\.policies\.delete_file must be "allow" \| "prompt" \| "deny" \(got "maybe"\)/,
  );
});

test("loadConfig: a missing file gives defaults; a present one is read", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "toold-cfg-"));
  try {
    const none = await loadConfig(dir);
    assert.equal(none.file, undefined);
    assert.equal(none.config.optimization.tool_registry.hot_cache_size, 16);
    await writeFile(path.join(dir, "vtcode.toml"), "[optimization.memory_pool]\nenabled = false\n");
    const some = await loadConfig(dir);
    assert.equal(some.file, path.join(dir, "vtcode.toml"));
    assert.equal(some.config.optimization.memory_pool.enabled, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
