import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile, rm, symlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  checkConfigFile,
  ConfigError,
  defaultConfig,
  loadConfig,
  parseConfig,
  userSetPolicies,
} from "../../src/config/load.js";
import { canonicalToolName, TOOL_NAMES } from "../../src/config/tool-names.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";

/** The problems of a config that must not load. */
function problemsOf(text: string): readonly string[] {
  try {
    parseConfig(text, "/ws/vtcode.toml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

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
  assert.equal(userSetPolicies(c).size, 0);
  assert.equal(c.daemon.idle_timeout_secs, 10800);
  assert.equal(c.daemon.log_level, "info");
  assert.equal(c.daemon.max_message_bytes, 16777216);
  assert.deepEqual(c.commands.allow_list, []);
});

test("values are read, sections VT Code owns are ignored, and the result is deeply frozen", () => {
  const { config, warnings } = parseConfig(
    `[agent]\nprovider = "x"\n[hooks]\nx = 1\n[optimization.tool_registry]\nhot_cache_size = 32\n[tools.policies]\nread_file = "deny"\n`,
    "vtcode.toml",
  );
  assert.equal(config.optimization.tool_registry.hot_cache_size, 32);
  assert.equal(config.optimization.tool_registry.use_optimized_registry, true, "unset keys keep defaults");
  assert.equal(config.tools.policies.read_file, "deny");
  assert.equal(config.tools.policies.delete_file, "prompt", "built-in entries stay");
  assert.deepEqual([...userSetPolicies(config)], ["read_file"]);
  assert.deepEqual(warnings, []);
  assert.ok(Object.isFrozen(config.tools.policies));
  assert.throws(() => {
    (config.optimization.tool_registry as { hot_cache_size: number }).hot_cache_size = 1;
  }, TypeError);
});

describe("errors: one per line, the path said once, enums list their values", () => {
  test("each bad key names its line, the key and what was expected", () => {
    const text = `[optimization.tool_registry]\nhot_cache_size = "big"\nuse_optimized_registry = 1\n\n[daemon]\nlog_level = "loud"\n[tools]\ndefault_policy = "maybe"\n`;
    assert.throws(
      () => parseConfig(text, "/ws/vtcode.toml"),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems, [
          'line 2: optimization.tool_registry.hot_cache_size must be an integer from 1 to 4096 (got "big")',
          "line 3: optimization.tool_registry.use_optimized_registry must be true or false (got 1)",
          'line 6: daemon.log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
          'line 8: tools.default_policy must be one of "allow", "prompt", "deny" (got "maybe")',
        ]);
        assert.equal(err.message, `invalid /ws/vtcode.toml:\n  ${err.problems.join("\n  ")}`);
        assert.equal(err.message.split("/ws/vtcode.toml").length, 2, "the path is said once");
        return true;
      },
    );
  });

  test("TOML syntax errors give line and column", () => {
    assert.match(problemsOf(`[daemon]\nlog_level = \n`)[0] ?? "", /^line 2, column \d+: TOML syntax error/);
  });

  test("a bad policy value names the entry's own line and the allowed values", () => {
    assert.deepEqual(problemsOf(`[tools.policies]\nread_file = "allow"\ndelete_file = "maybe"\n`), [
      'line 3: tools.policies.delete_file must be one of "allow", "prompt", "deny" (got "maybe")',
    ]);
  });
});

describe("warnings: unknown keys and near-misses, with the nearest known key", () => {
  test("a misspelt key in a known section", () => {
    const { warnings, config } = parseConfig(
      `[tools]\nprotected_path = ["x"]\n[daemon]\nidle_timeout = 5\nfrobnicate = 1\n`,
      "vtcode.toml",
    );
    assert.deepEqual(warnings.slice(0, 2), [
      "line 2: unknown key tools.protected_path ignored; did you mean protected_paths?",
      "line 4: unknown key daemon.idle_timeout ignored; did you mean idle_timeout_secs?",
    ]);
    assert.match(
      warnings[2] ?? "",
      /^line 5: unknown key daemon\.frobnicate ignored \(known: idle_timeout_secs, /,
    );
    assert.deepEqual(
      config.tools.protected_paths,
      ["**/vtcode.toml", ".git/**"],
      "the misspelt key changes nothing",
    );
  });

  test("a misspelt section is named; VT Code's own sections are not", () => {
    const { warnings } = parseConfig(
      `[command]\ndeny_list = ["rm"]\n[optimization.toolregistry]\nhot_cache_size = 1\n[hooks]\n[tools.policy]\nx = "deny"\n`,
      "vtcode.toml",
    );
    assert.deepEqual(warnings, [
      "line 1: unknown section [command] ignored; did you mean [commands]?",
      "line 3: unknown section [optimization.toolregistry] ignored; did you mean [optimization.tool_registry]?",
      "line 6: unknown key tools.policy ignored; did you mean policies?",
    ]);
  });

  test("a policy key that names no tool", () => {
    const { warnings, config } = parseConfig(`[tools.policies]\ndelete_fiel = "deny"\n`, "vtcode.toml");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? "",
      /^line 2: tools\.policies\.delete_fiel names no toold tool.*; did you mean delete_file\?$/,
    );
    assert.equal(config.tools.policies.delete_fiel, "deny", "kept as written");
  });
});

describe("policy keys are canonicalised at load (issue #12 item 2)", () => {
  test("any case, name or alias, replaces the built-in entry for that tool", () => {
    const { config } = parseConfig(
      `[tools.policies]\nRun_Terminal_Cmd = "deny"\nGREP_SEARCH = "prompt"\nDelete_File = "allow"\n`,
      "vtcode.toml",
    );
    assert.deepEqual(config.tools.policies, {
      delete_file: "allow",
      run_terminal_cmd: "deny",
      exec_command: "prompt",
      write_stdin: "allow",
      grep_file: "prompt",
    });
  });

  test("two keys for one tool that disagree are an error naming both; agreeing ones are fine", () => {
    assert.deepEqual(problemsOf(`[tools.policies]\nrun_terminal_cmd = "allow"\nRun_PTY_Cmd = "deny"\n`), [
      'line 3: tools.policies.run_terminal_cmd = "allow" (line 2) and tools.policies.Run_PTY_Cmd = "deny" (line 3) name the same tool (run_terminal_cmd) but disagree; keep one of them',
    ]);
    const { config } = parseConfig(
      `[tools.policies]\nread_file = "deny"\nREAD_FILE = "deny"\n`,
      "vtcode.toml",
    );
    assert.equal(config.tools.policies.read_file, "deny");
  });

  test("the vocabulary knows every tool of the registry and its aliases", () => {
    for (const def of BUILTIN_TOOLS) {
      assert.equal(
        canonicalToolName(def.name),
        def.name,
        `${def.name} is missing from src/config/tool-names.ts: add it (with its aliases)`,
      );
      for (const alias of def.aliases ?? []) {
        const canonical = canonicalToolName(alias);
        // An alias may be a tool of its own in the vocabulary while it is split out (exec_command).
        assert.ok(
          canonical === def.name || TOOL_NAMES.some((t) => t.name === alias),
          `alias ${alias} of ${def.name} is missing from src/config/tool-names.ts`,
        );
      }
    }
  });
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

test("checkConfigFile: errors and warnings without a daemon, the path once", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "toold-check-"));
  const file = path.join(dir, "vtcode.toml");
  try {
    assert.deepEqual(checkConfigFile(dir), { file, errors: [], warnings: [] }, "no file is no problem");
    await writeFile(file, `[tools]\nprotected_path = []\n[daemon]\nlog_level = "loud"\n`);
    assert.deepEqual(checkConfigFile(dir), {
      file,
      errors: [
        'line 4: daemon.log_level must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent" (got "loud")',
      ],
      warnings: ["line 2: unknown key tools.protected_path ignored; did you mean protected_paths?"],
    });
    await writeFile(file, `[tools.policies]\ndelete_fiel = "deny"\n`);
    const near = checkConfigFile(dir);
    assert.deepEqual(near.errors, []);
    assert.match(near.warnings[0] ?? "", /did you mean delete_file\?/);
    await rm(file);
    await symlink("gone.toml", file);
    assert.deepEqual(checkConfigFile(dir).errors, [
      "is a symlink whose target does not exist; fix or remove the link",
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
