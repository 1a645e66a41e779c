/**
 * The CLI explains itself: every command has its own help (usage, options, an example) through
 * `toold help CMD` and `CMD --help`; options of other commands are refused and named; mistyped
 * commands, tools and subcommands get "did you mean"; completion scripts complete; importing the
 * entry module runs nothing.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { pathToFileURL } from "node:url";
import path from "node:path";
import { CLI, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

/** Commands every build has; the help's own list is checked against the modules too. */
const COMMANDS = [
  "start",
  "stop",
  "restart",
  "status",
  "ps",
  "call",
  "tools",
  "stats",
  "logs",
  "config",
  "socket",
  "mcp",
  "completion",
  "help",
];

function run(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(opts.input ?? "");
  });
}

describe("toold help", () => {
  it("lists every command with a summary", async () => {
    const r = await run(["help"]);
    assert.equal(r.code, 0);
    for (const name of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, "m"), name);
  });

  it("gives each command its own usage, options and example, the same through help CMD and CMD --help", async () => {
    const listed = [...(await run(["help"])).stdout.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]!);
    assert.ok(
      COMMANDS.every((c) => listed.includes(c)),
      listed.join(" "),
    );
    for (const name of listed) {
      const viaHelp = await run(["help", name]);
      const viaFlag = await run([name, "--help"]);
      const viaShort = await run([name, "-h"]);
      assert.equal(viaHelp.code, 0, `${name}: ${viaHelp.stderr}`);
      assert.equal(viaFlag.stdout, viaHelp.stdout, name);
      assert.equal(viaShort.stdout, viaHelp.stdout, name);
      assert.match(viaHelp.stdout, new RegExp(`^Usage: toold ${name}\\b`), name);
      assert.match(viaHelp.stdout, /^Examples?:\n {2}.*\btoold /m, name);
      assert.match(viaHelp.stdout, /--workspace DIR/, name);
    }
    const call = (await run(["help", "call"])).stdout;
    assert.match(call, /--yes/);
    assert.doesNotMatch(call, /--prometheus|--follow|--foreground/, "only call's own options");
    const stats = (await run(["stats", "--help"])).stdout;
    assert.match(stats, /--prometheus/);
    assert.match(stats, /--interval SECS/);
    assert.doesNotMatch(stats, /--yes/);
  });

  it("prints the global usage on stderr with exit 2 when no command is given", async () => {
    const r = await run([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /Usage: toold <command>/);
    assert.equal((await run(["--help"])).code, 0);
  });

  it("refuses an option of another command, naming whose it is", async () => {
    const r = await run(["call", "read_file", "--prometheus"]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /call does not take --prometheus \(it is an option of toold stats\)/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    const follow = await run(["status", "-f"]);
    assert.equal(follow.code, 2);
    assert.match(follow.stderr, /status does not take -f \(it is an option of toold logs\)/);
    const typo = await run(["stats", "--jsno", "--no-start"]);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /did you mean "--json"\?/);
  });

  it('suggests the nearest command and subcommand ("did you mean")', async () => {
    const cases: [string[], RegExp][] = [
      [["stauts"], /unknown command "stauts" \(did you mean "status"/],
      [["tool"], /did you mean "tools"\?/],
      [["help", "cal"], /did you mean "call"\?/],
      [["config", "relaod"], /unknown config command "relaod" \(did you mean "reload"\?\)/],
      [["completion", "bahs"], /did you mean "bash"\?/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, message, args.join(" "));
    }
  });

  it("importing the entry module runs no command", async () => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(CLI).href)}); console.log(typeof m.cli);`;
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        ["--input-type=module", "-e", script, "status"],
        { timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "function\n");
    assert.equal(r.stderr, "");
  });
});

describe("tools and calls by name", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
  });
  after(() => d.cleanup());

  it('says "did you mean" for a mistyped tool, in call and in tools NAME', async () => {
    const r = await d.cli(["call", "reed_file", "path=a.txt"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown tool "reed_file" \(did you mean "read_file"\?\)/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    const t = await d.cli(["tools", "grep_fil"]);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /did you mean "grep_file"\?/);
  });

  it("tools NAME shows one tool with its enums and unions, never a bare any for them", async () => {
    const r = await d.cli(["tools", "list_files"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^list_files\n/);
    assert.match(r.stdout, /mode: "list" \| "recursive" \| "find_name" \| "find_content"/);
    assert.match(r.stdout, /max_items: integer 1\.\.100000/);
    assert.doesNotMatch(r.stdout, /^grep_file/m, "one tool only");
    const table = await d.cli(["tools"]);
    assert.match(table.stdout, /mode\?: "list" \| "recursive"/);
    const json = JSON.parse((await d.cli(["tools", "read_file", "--json"])).stdout) as { name: string };
    assert.equal(json.name, "read_file");
    const names = (await d.cli(["tools", "--names"])).stdout.split("\n");
    assert.ok(names.includes("read_file") && names.includes("grep_file"));
  });

  it("bash completion completes commands, a command's own options, and tool names", async () => {
    const script = (await run(["completion", "bash"])).stdout;
    const complete = async (words: string[]) => {
      const bash = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _toold; printf '%s\\n' "\${COMPREPLY[@]}"`;
      // `toold` on PATH, as the script calls it: the real CLI with this test's workspace and socket.
      const bin = path.join(d.runDir, "bin");
      await import("node:fs/promises").then(async (fs) => {
        await fs.mkdir(bin, { recursive: true });
        await fs.writeFile(
          path.join(bin, "toold"),
          `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} --socket ${JSON.stringify(d.socket)} "$@"\n`,
          { mode: 0o755 },
        );
      });
      const out = await new Promise<string>((resolve, reject) =>
        execFile(
          "bash",
          ["-c", bash],
          { cwd: d.root, env: { ...d.env, PATH: `${bin}:${process.env.PATH}` } },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        ),
      );
      return out.split("\n").filter(Boolean);
    };
    assert.deepEqual(await complete(["toold", "sta"]), ["start", "status", "stats"]);
    assert.deepEqual(await complete(["toold", "stats", "--p"]), ["--prometheus"]);
    assert.deepEqual(await complete(["toold", "call", "--p"]), [], "no option of another command");
    assert.deepEqual(await complete(["toold", "config", ""]), ["get", "reload", "check"]);
    assert.equal((await d.cli(["start"])).code, 0);
    assert.deepEqual(await complete(["toold", "call", "read_f"]), ["read_file"]);
  });

  it("zsh completion is a valid zsh script when zsh is installed", async (t) => {
    const script = (await run(["completion", "zsh"])).stdout;
    assert.match(script, /^#compdef toold/);
    const zsh = await new Promise<boolean>((resolve) =>
      execFile("zsh", ["--version"], (err) => resolve(!err)),
    );
    if (!zsh) return t.skip("zsh not installed");
    await new Promise<void>((resolve, reject) => {
      const child = execFile("zsh", ["-n"], (err) => (err ? reject(err) : resolve()));
      child.stdin?.end(script);
    });
  });
});
