/**
 * Issue #12 item 2: a policy written under an alias or in another case is honoured, and the
 * built-in entries never shadow the user's. Before the fix the built-in table was merged first
 * and the first matching key won, so `Run_Terminal_Cmd = "allow"` and `exec_command = "deny"`
 * were silently ignored.
 */
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig, defaultConfig } from "../../src/config/load.js";
import { decideCall, policyFor } from "../../src/policy/policy.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";
import type { AnyToolDefinition } from "../../src/tools/shared/types.js";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

/** The registry's tool answering to `name` (its name or an alias), as the dispatcher would find it. */
function toolAnswering(name: string): AnyToolDefinition {
  const def = BUILTIN_TOOLS.find((d) => [d.name, ...(d.aliases ?? [])].includes(name));
  assert.ok(def, `no tool answers to ${name}`);
  return def;
}

const config = (policies: string) => parseConfig(`[tools.policies]\n${policies}\n`, "vtcode.toml").config;
const fakeTool = (name: string, aliases: string[]) => ({ ...toolAnswering("read_file"), name, aliases });

describe("policyFor", () => {
  test('exec_command = "deny" denies the tool that answers to exec_command', () => {
    const d = policyFor(config(`exec_command = "deny"`), toolAnswering("exec_command"));
    assert.deepEqual(d, { policy: "deny", source: "tools.policies.exec_command" });
  });

  test("any case and any alias, over the built-in entry", () => {
    assert.equal(
      policyFor(config(`Run_Terminal_Cmd = "deny"`), toolAnswering("run_terminal_cmd")).policy,
      "deny",
    );
    assert.equal(
      policyFor(config(`Run_Terminal_Cmd = "allow"`), toolAnswering("run_terminal_cmd")).policy,
      "allow",
    );
    assert.equal(
      policyFor(config(`RUN_PTY_CMD = "allow"`), toolAnswering("run_terminal_cmd")).policy,
      "allow",
    );
    assert.equal(policyFor(config(`Grep_Search = "deny"`), toolAnswering("grep_file")).policy, "deny");
  });

  test("a user key wins over a built-in entry that matches the same tool under another name", () => {
    // While exec_command is still an alias of run_terminal_cmd, the built-in exec_command entry
    // (prompt) matches it too; the user's own entry decides.
    const tool = fakeTool("run_terminal_cmd", ["run_pty_cmd", "exec_command"]);
    assert.equal(policyFor(config(`run_terminal_cmd = "allow"`), tool).policy, "allow");
    assert.equal(policyFor(defaultConfig(), tool).policy, "prompt");
  });

  test("several of the user's keys matching one tool: the strictest wins", () => {
    const tool = fakeTool("my_tool", ["MyAlias"]);
    const d = policyFor(config(`my_tool = "allow"\nmyalias = "deny"`), tool);
    assert.deepEqual(d, { policy: "deny", source: "tools.policies.myalias" });
  });

  test("no entry: default_policy", () => {
    const { config: c } = parseConfig(`[tools]\ndefault_policy = "prompt"\n`, "vtcode.toml");
    assert.deepEqual(policyFor(c, toolAnswering("read_file")), {
      policy: "prompt",
      source: "tools.default_policy",
    });
  });

  test("decideCall: a denial names the key that decided", () => {
    const d = decideCall(config(`Delete_File = "deny"`), toolAnswering("delete_file"), { path: "x" });
    assert.equal(d.action, "deny");
    assert.match(
      d.action === "deny" ? (d.result.content[0]?.text ?? "") : "",
      /tools\.policies\.delete_file = "deny"/,
    );
  });
});

describe("through the daemon", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({
      toml: `[tools.policies]\nRun_Terminal_Cmd = "allow"\nexec_command = "deny"\nDELETE_FILE = "deny"\n`,
      files: { "keep.txt": "k\n" },
    });
  });
  after(async () => {
    await d.cleanup();
  });

  it("honours keys in another case and under an alias", async () => {
    const del = await d.cli(["call", "delete_file", "path=keep.txt"]);
    assert.equal(del.code, 1);
    assert.match(del.stderr, /denied by policy \(tools\.policies\.delete_file = "deny"\)/);
    const exec = await d.cli(["call", "exec_command", JSON.stringify({ command: "echo ran" })]);
    assert.equal(exec.code, 1, exec.stdout);
    assert.match(exec.stderr, /denied by policy \(tools\.policies\.exec_command = "deny"\)/);
  });

  it('Run_Terminal_Cmd = "allow" runs without asking (the built-in "prompt" does not shadow it)', async () => {
    await d.write({ "vtcode.toml": `[tools.policies]\nRun_Terminal_Cmd = "allow"\n` });
    const reload = await d.cli(["config", "reload"]);
    assert.equal(reload.code, 0, reload.stderr);
    // From a pipe the CLI cannot approve: a prompt would be refused.
    const r = await d.cli(["call", "run_terminal_cmd", JSON.stringify({ command: "echo ran" })]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /ran/);
  });
});
