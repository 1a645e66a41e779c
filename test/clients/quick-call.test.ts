/**
 * The quick `toold call` path (src/cli/quick-call.ts) against the full command line: the same
 * output and exit codes for every outcome, the plain command lines only (a property test against
 * the full parser), and a daemon of another version replaced before the call is sent, never
 * called. Which path ran is seen in the modules the process resolved.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import fc from "fast-check";
import { quickArgs } from "../../src/cli/quick-call.js";
import { parseOptions, splitCommand } from "../../src/cli/command-line.js";
import { call } from "../../src/cli/commands/call.js";
import { globalsOf } from "../../src/cli/command.js";
import {
  REPO_ROOT,
  assertCtrlCCancelsCall,
  makeTestDaemon,
  type CliResult,
  type TestDaemon,
} from "../helpers/daemon.js";

const HOOK = path.join(REPO_ROOT, "test/clients/fixtures/trace-imports.mjs");

/** Runs the CLI like d.cli, also returning whether the full command line was loaded. */
async function traced(
  d: TestDaemon,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult & { full: boolean }> {
  const trace = path.join(d.runDir, `imports-${process.hrtime.bigint()}.txt`);
  const r = await new Promise<CliResult>((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", HOOK, ...d.cliArgv(args)],
      { cwd: d.root, env: { ...d.env, ...env, TOOLD_TRACE_IMPORTS: trace }, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
  const loaded = await readFile(trace, "utf8").catch(() => "");
  await rm(trace, { force: true });
  return { ...r, full: loaded.includes("/dist/cli/command-line.js") };
}

describe("the quick call path", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
  });
  after(() => d.cleanup());

  it("hands a call to the full command line when no daemon answers (--no-start: the same error, exit 3)", async () => {
    const quick = await traced(d, ["call", "read_file", "path=a.txt", "--no-start"]);
    // `--socket=` is a form the quick path leaves to the full parser.
    const full = await traced(d, ["call", "read_file", "path=a.txt", "--no-start", `--socket=${d.socket}`]);
    assert.equal(quick.code, 3);
    assert.deepEqual(
      { code: quick.code, stdout: quick.stdout, stderr: quick.stderr },
      { code: full.code, stdout: full.stdout, stderr: full.stderr },
    );
    assert.equal(quick.full, true, "handed back");
  });

  it("gives the full path's output and exit code for success, --json, a tool error, bad params, an unknown tool and approvals", async () => {
    assert.equal((await d.cli(["start"])).code, 0);
    const cases: [string[], number][] = [
      [["call", "read_file", "path=a.txt"], 0],
      [["call", "read_file", '{"path":"a.txt","limit":1}', "--json"], 0],
      [["call", "read_file", "path=missing.txt"], 1],
      [["call", "read_file", "path=missing.txt", "--json"], 1],
      [["call", "read_file", "path=7"], 2],
      [["call", "read_fille", "path=a.txt"], 2],
      [["--no-start", "call", "-y", "list_files", "path=."], 0],
      // Approvals: refused without a terminal or --yes, run with it.
      [["call", "run_terminal_cmd", "command=echo hi"], 1],
      [["call", "run_terminal_cmd", "command=echo hi", "--yes"], 0],
    ];
    for (const [args, code] of cases) {
      const quick = await traced(d, args);
      const full = await traced(d, [...args, `--socket=${d.socket}`]);
      assert.equal(quick.full, false, `${args.join(" ")}: the quick path ran`);
      assert.equal(full.full, true, `${args.join(" ")}: the full path ran`);
      assert.equal(quick.code, code, `${args.join(" ")}: ${quick.stderr}`);
      assert.deepEqual(
        { code: quick.code, stdout: quick.stdout, stderr: quick.stderr },
        { code: full.code, stdout: full.stdout, stderr: full.stderr },
        args.join(" "),
      );
    }
  });

  it("waits for initialize when the registry does not vouch for the daemon (another runtime folder)", async () => {
    const elsewhere = path.join(d.runDir, "other-runtime");
    await mkdir(elsewhere, { mode: 0o700 });
    const r = await traced(d, ["call", "read_file", "path=a.txt"], { TOOLD_RUNTIME_DIR: elsewhere });
    assert.deepEqual(
      { code: r.code, stdout: r.stdout, stderr: r.stderr, full: r.full },
      {
        code: 0,
        stdout: "alpha\n",
        stderr: "",
        full: false,
      },
    );
  });
});

describe("the quick call path and Ctrl-C", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({});
    assert.equal((await d.cli(["start"])).code, 0);
  });
  after(() => d.cleanup());

  it("cancels the call in the daemon and exits 1", async () => {
    const trace = path.join(d.runDir, "imports-sigint.txt");
    await assertCtrlCCancelsCall(d, { nodeArgs: ["--import", HOOK], env: { TOOLD_TRACE_IMPORTS: trace } });
    assert.ok(!(await readFile(trace, "utf8")).includes("/dist/cli/command-line.js"), "the quick path ran");
  });
});

/** An NDJSON daemon of another version: answers initialize, tools/call and daemon/shutdown. */
function fakeOldDaemon(socket: string): { methods: string[]; close: () => Promise<void> } {
  const methods: string[] = [];
  const conns = new Set<net.Socket>();
  const server = net.createServer((conn) => {
    conns.add(conn);
    conn.on("close", () => conns.delete(conn));
    let buffered = "";
    conn.on("data", (chunk) => {
      buffered += chunk.toString("utf8");
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buffered.slice(0, nl)) as { id?: number; method: string };
        buffered = buffered.slice(nl + 1);
        methods.push(msg.method);
        if (msg.id === undefined) continue;
        const result =
          msg.method === "initialize"
            ? { serverInfo: { name: "toold", version: "0.0.0-old" }, capabilities: {} }
            : msg.method === "tools/call"
              ? { content: [{ type: "text", text: "from the old daemon\n" }] }
              : { ok: true };
        conn.write(`${JSON.stringify({ jsonrpc: "2.0", id: msg.id, result })}\n`);
        if (msg.method === "daemon/shutdown") {
          server.close();
          for (const c of conns) c.destroy();
        }
      }
    });
  });
  server.listen(socket);
  return {
    methods,
    close: () => new Promise((r) => (server.listening ? server.close(() => r()) : r())),
  };
}

describe("the quick call path and a daemon of another version", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
  });
  after(() => d.cleanup());

  it("with --no-start calls it as the full path does", async () => {
    const old = fakeOldDaemon(d.socket);
    try {
      const quick = await traced(d, ["--no-start", "call", "read_file", "path=a.txt"]);
      const full = await traced(d, ["--no-start", "call", "read_file", "path=a.txt", `--socket=${d.socket}`]);
      assert.equal(quick.full, false);
      assert.deepEqual(
        { code: quick.code, stdout: quick.stdout, stderr: quick.stderr },
        { code: 0, stdout: "from the old daemon\n", stderr: "" },
      );
      assert.deepEqual(
        { code: full.code, stdout: full.stdout, stderr: full.stderr },
        { code: quick.code, stdout: quick.stdout, stderr: quick.stderr },
      );
    } finally {
      await old.close();
    }
  });

  it("otherwise never sends it the call: the full path replaces it and the new daemon answers", async () => {
    const old = fakeOldDaemon(d.socket);
    try {
      const r = await traced(d, ["call", "read_file", "path=a.txt"]);
      assert.deepEqual(
        { code: r.code, stdout: r.stdout, stderr: r.stderr },
        { code: 0, stdout: "alpha\n", stderr: "" },
      );
      assert.equal(r.full, true, "handed back");
      assert.ok(!old.methods.includes("tools/call"), `the old daemon got ${old.methods.join(", ")}`);
      assert.ok(old.methods.includes("daemon/shutdown"), `the old daemon got ${old.methods.join(", ")}`);
    } finally {
      await old.close();
    }
  });
});

describe("the command lines the quick path takes", () => {
  const token = fc.constantFrom(
    "--workspace",
    "--socket",
    "--no-start",
    "--json",
    "--yes",
    "-y",
    "-h",
    "--help",
    "--",
    "-",
    "--socket=/s",
    "--prometheus",
    "call",
    "status",
    "read_file",
    "path=a.txt",
    '{"path":"a.txt"}',
    "ws",
    "",
    "-x",
  );

  it("are parsed by the full parser to the same command, globals, tool, ARGS and flags", () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 8 }), (argv) => {
        const q = quickArgs(argv);
        if (!q) return;
        const { name, rest } = splitCommand(argv);
        assert.equal(name, "call");
        const { values, positionals } = parseOptions(call, rest);
        assert.deepEqual(globalsOf(values), q.globals);
        assert.deepEqual(positionals, [q.tool, ...q.rest]);
        assert.equal(values.json === true, q.json);
        assert.equal(values.yes === true, q.yes);
        assert.notEqual(values.help, true);
      }),
      { numRuns: 2000 },
    );
  });

  it("take the plain forms and leave help, stdin ARGS and --opt=value to the full parser", () => {
    assert.ok(quickArgs(["--workspace", "w", "--socket", "s", "call", "read_file", "path=a", "--json"]));
    assert.ok(quickArgs(["call", "read_file"]));
    for (const argv of [
      ["call", "read_file", "-h"],
      ["call", "read_file", "-"],
      ["call", "--socket=s", "read_file"],
      ["call"],
      ["status"],
      ["call", "read_file", "--", "x"],
      ["--workspace", "", "call", "read_file"],
    ])
      assert.equal(quickArgs(argv), undefined, argv.join(" "));
  });
});
