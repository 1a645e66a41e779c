/**
 * Issue #12 item 1: an approval cannot hide the command. The agent controls every argument and
 * their order: padding in `env` placed before `command` must not push the command out of sight,
 * and bidi or control characters must not reorder or hide what the human reads. Checked on every
 * approval path: the daemon's `client/approve` display, the CLI's y/N prompt (on a real
 * pseudo-terminal) and the MCP bridge's elicitation.
 */
import { after, before, describe, it, test } from "node:test";
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import fc from "fast-check";
import type { ApproveParams } from "../../src/protocol/methods.js";
import { escapeInvisible, renderApproval } from "../../src/support/display.js";
import { CLI, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

/** What an attacker sends: env padding first, the real command after it, a bidi override inside. */
const PADDING = { PAD: "x".repeat(4000) };
const HIDDEN = "rm -rf ~/important # \u202Etxt.exe";
const hostileArgs = () => ({ env: PADDING, cwd: ".", timeout_secs: 5, command: HIDDEN });

/** The rendering a human must see: the command in full on the first argument line, escaped. */
function assertShowsCommandFirst(text: string): void {
  const lines = text.split("\n");
  assert.match(lines[0] ?? "", /^toold: allow run_terminal_cmd\? \(.*prompt.*\)$/);
  assert.equal(lines[1], "  command: rm -rf ~/important # \\u{202E}txt.exe");
  assert.equal(lines[2], "  cwd: .");
  assert.ok(lines[3]?.startsWith("  env: PAD=xxxx"), lines[3]);
  assert.equal(lines[3]?.length, "  env: PAD=".length + 4000, "env is shown in full");
  assert.ok(!text.includes("\u202E"), "no raw bidi override reaches the display");
}

describe("renderApproval", () => {
  test("primary arguments first and in full, whatever the key order; the rest after, shortened", () => {
    const text = renderApproval(
      {
        tool: "write_file",
        arguments: { content: "y".repeat(5000), path: "src/a.ts" },
        reason: 'tools.policies.write_file = "prompt"',
      },
      { otherMaxChars: 100 },
    );
    const lines = text.split("\n");
    assert.equal(lines[1], "  path: src/a.ts");
    assert.equal(lines[2], `  content: ${"y".repeat(100)}… (4900 more characters)`);
  });

  test("argv arrays are shown as a shell line, quoted where a word needs it", () => {
    const text = renderApproval({
      tool: "run_terminal_cmd",
      arguments: { command: ["rm", "-rf", "a b", "it's"] },
      reason: "r",
    });
    assert.equal(text.split("\n")[1], `  command: rm -rf 'a b' 'it'\\''s'`);
  });

  test("every env entry on its own line; a patch's files are listed before its body", () => {
    const text = renderApproval({
      tool: "apply_patch",
      arguments: {
        input: "*** Begin Patch\n*** Update File: a.txt\n*** Move to: ../b.txt\n@@\n-x\n+y\n*** End Patch",
      },
      reason: "r",
    });
    assert.equal(text.split("\n")[1], "  files in input: a.txt ../b.txt");
    const env = renderApproval({
      tool: "t",
      arguments: { command: "ls", env: { A: "1", B: "\u0007" } },
      reason: "r",
    });
    assert.deepEqual(env.split("\n").slice(1), ["  command: ls", "  env: A=1", "       B=\\u{0007}"]);
  });

  test("escapes controls, bidi, zero-width and odd spaces; leaves ordinary text alone", () => {
    assert.equal(
      escapeInvisible("a\u200Bb\u2066c\u2069\u00A0d\u0085e\u001B[31m\r\n\tf"),
      "a\\u{200B}b\\u{2066}c\\u{2069}\\u{00A0}d\\u{0085}e\\u{001B}[31m\\r\\n\\tf",
    );
    assert.equal(escapeInvisible("grep 'é' ünïcødé 日本 \\ $HOME"), "grep 'é' ünïcødé 日本 \\ $HOME");
    assert.equal(escapeInvisible("tag\u{E0041}"), "tag\\u{E0041}");
  });

  test("property: whatever the keys' order and padding, the command line comes first and nothing invisible survives", () => {
    const invisible = fc.constantFrom(
      "\u202E",
      "\u202D",
      "\u2066",
      "\u200B",
      "\u200F",
      "\u001B",
      "\r",
      "\n",
      "\u0085",
      "\uFEFF",
      "\u00AD",
    );
    const text = fc
      .array(fc.oneof(fc.string({ maxLength: 8 }), invisible), { maxLength: 12 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(
        text.filter((t) => t.length > 0),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !["command", "cwd", "env"].includes(k)),
          text,
          { maxKeys: 5 },
        ),
        fc.nat({ max: 20_000 }),
        fc.boolean(),
        (command, others, padLength, padFirst) => {
          const env = { PAD: "p".repeat(padLength) };
          const args: Record<string, unknown> = padFirst
            ? { ...others, env, command }
            : { command, ...others, env };
          const shown = renderApproval({ tool: "run_terminal_cmd", arguments: args, reason: "why" });
          const lines = shown.split("\n");
          assert.equal(lines[1], `  command: ${escapeInvisible(command)}`);
          assert.ok(lines[2]?.startsWith("  env: PAD="));
          assert.ok(
            // eslint-disable-next-line no-control-regex
            !/[\u202A-\u202E\u2066-\u2069\u200B-\u200F\u001B\r\u0085\uFEFF\u00AD]/.test(shown),
            JSON.stringify(shown),
          );
          assert.equal(shown.split("\n").length, lines.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("every approval path shows the command first, in full, escaped", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ toml: `[tools.policies]\nrun_terminal_cmd = "prompt"\n` });
  });
  after(async () => {
    await d.cleanup();
  });

  it("client/approve carries the display", async () => {
    const asked: ApproveParams[] = [];
    const client = await d.connect({
      onApprove: (req) => {
        asked.push(req);
        return false;
      },
    });
    try {
      const r = await client.callTool("run_terminal_cmd", hostileArgs());
      assert.equal(r.isError, true);
      assert.equal(asked.length, 1);
      assertShowsCommandFirst(asked[0]?.display ?? "(no display sent)");
    } finally {
      client.close();
    }
  });

  it("the CLI's y/N prompt on a terminal", async () => {
    const { spawn } = await import("@lydell/node-pty");
    const pty = spawn(
      process.execPath,
      d.cliArgv(["call", "run_terminal_cmd", JSON.stringify(hostileArgs())]),
      { cols: 80, rows: 24, cwd: d.root, env: d.env as Record<string, string> },
    );
    let out = "";
    const exited = new Promise<number>((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt; got: ${out.slice(0, 500)}`)), 30_000);
      pty.onData((chunk) => {
        out += chunk;
        if (out.includes("[y/N]")) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    pty.write("n\r");
    assert.equal(await exited, 1, "a refused call exits 1");
    // readline's own cursor moves are not part of the text (the display escapes every ESC it shows).
    const prompt = out
      .slice(0, out.indexOf("[y/N]"))
      // eslint-disable-next-line no-control-regex
      .replace(/\x1B\[[0-9;]*[A-Za-z]/g, "")
      .replace(/\r\n/g, "\n");
    assertShowsCommandFirst(prompt);
  });

  it("the MCP bridge's elicitation", async () => {
    const host = new Client({ name: "asking-host", version: "0" }, { capabilities: { elicitation: {} } });
    const asked: string[] = [];
    host.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params.message);
      return { action: "accept", content: { approve: false } };
    });
    await host.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp", "--workspace", d.root, "--socket", d.socket],
        env: d.env as Record<string, string>,
        stderr: "pipe",
      }),
    );
    try {
      const r = await host.callTool({ name: "run_terminal_cmd", arguments: hostileArgs() });
      assert.equal(r.isError, true);
      assert.equal(asked.length, 1);
      assertShowsCommandFirst(asked[0] ?? "");
    } finally {
      await host.close();
    }
  });
});
