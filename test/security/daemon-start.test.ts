import net from "node:net";
/**
 * What the daemon refuses, through the real CLI: an unsafe socket folder, a config that does not
 * parse or validate (at start: no fallback to defaults; at reload: the old config stays), and a
 * client under another uid (when the tests run as root).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmod, chown, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { CLI, makeTestDaemon, type CliResult, type TestDaemon } from "../helpers/daemon.js";

const IS_ROOT = process.getuid?.() === 0;
const NOBODY = 65534;

/** The CLI against `d`'s workspace but another socket path. */
function cliWithSocket(d: TestDaemon, socket: string, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, "--workspace", d.root, "--socket", socket, ...args],
      { cwd: d.root, env: d.env, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

test("socket folder: mode 0777, owned by someone else, or a symlink → refused with a clear message", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "a" } });
  try {
    const open = path.join(d.runDir, "open");
    await mkdir(open);
    await chmod(open, 0o777);
    const r1 = await cliWithSocket(d, path.join(open, "s.sock"), ["start"]);
    assert.equal(r1.code, 1, "start exits 1 when the daemon cannot come up");
    assert.match(r1.stderr, /socket folder .*open has mode 0777; it must be 0700.*chmod 700/);
    assert.equal(existsSync(path.join(open, "s.sock")), false, "no socket was created");

    const link = path.join(d.runDir, "link");
    const real = path.join(d.runDir, "real");
    await mkdir(real, { mode: 0o700 });
    await symlink(real, link);
    const r2 = await cliWithSocket(d, path.join(link, "s.sock"), ["call", "read_file", "path=a.txt"]);
    assert.equal(r2.code, 3, "call exits 3: no daemon can be reached");
    assert.match(r2.stderr, /socket folder .*link is a symlink; refusing to use it/);
    assert.equal(existsSync(path.join(real, "s.sock")), false);

    if (IS_ROOT) {
      const theirs = path.join(d.runDir, "theirs");
      await mkdir(theirs, { mode: 0o700 });
      await chown(theirs, NOBODY, NOBODY);
      const r3 = await cliWithSocket(d, path.join(theirs, "s.sock"), ["start"]);
      assert.notEqual(r3.code, 0);
      assert.match(
        r3.stderr,
        new RegExp(`socket folder .*theirs is owned by uid ${NOBODY}, not by you \\(uid 0\\)`),
      );
    }
  } finally {
    await d.cleanup();
  }
});

test("first start on the default socket path: the folder is created private, and the daemon starts", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "a" } });
  // The per-user runtime folder (here an explicit one) does not exist yet.
  const runtime = path.join(d.runDir, "rt", "toold");
  await mkdir(path.dirname(runtime), { mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...d.env, TOOLD_RUNTIME_DIR: runtime };
  delete env.TOOLD_SOCKET;
  const cli = (args: string[]) =>
    new Promise<CliResult>((resolve) => {
      execFile(
        process.execPath,
        [CLI, "--workspace", d.root, ...args],
        { cwd: d.root, env, timeout: 30_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      );
    });
  try {
    // The runtime folder does not exist yet: the daemon must create it 0700 before anything
    // (its log folder included) is put there, or its own check would refuse it.
    const r = await cli(["call", "read_file", "path=a.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "a");
    const st = statSync(runtime);
    assert.equal(st.mode & 0o777, 0o700);
    assert.equal((await cli(["socket"])).stdout.trim().startsWith(`${runtime}/`), true);
  } finally {
    await cli(["stop"]);
    await d.cleanup();
  }
});

test(
  "a client under another uid cannot connect to the socket",
  { skip: !IS_ROOT && "needs root to run a child as uid 65534" },
  async () => {
    const d = await makeTestDaemon({ files: { "a.txt": "a" } });
    try {
      assert.equal((await d.cli(["start"])).code, 0);
      const tryConnect = () =>
        new Promise<string>((resolve) => {
          const child = spawn(
            process.execPath,
            [
              "-e",
              `require("net").connect(process.argv[1]).on("connect",()=>{console.log("CONNECTED");process.exit(0)}).on("error",e=>{console.log(e.code);process.exit(0)})`,
              d.socket,
            ],
            { uid: NOBODY, gid: NOBODY, cwd: "/", stdio: ["ignore", "pipe", "pipe"] },
          );
          let out = "";
          child.stdout.on("data", (c: Buffer) => (out += c.toString()));
          child.stderr.on("data", (c: Buffer) => (out += c.toString()));
          child.on("close", () => resolve(out.trim()));
        });
      // The private folder alone stops it.
      assert.equal(await tryConnect(), "EACCES");
      // Open every folder on the way for traversal: the socket's own mode (0600) still stops it.
      const base = path.dirname(d.root);
      await chmod(base, 0o711);
      await chmod(d.runDir, 0o711);
      try {
        assert.equal(await tryConnect(), "EACCES");
      } finally {
        await chmod(d.runDir, 0o700);
        await chmod(base, 0o700);
      }
      // And the owner still can.
      assert.equal((await d.cli(["call", "read_file", "path=a.txt"])).stdout, "a");
    } finally {
      await d.cleanup();
    }
  },
);

test("an invalid vtcode.toml at start: no fallback to defaults; the CLI prints the file, each line and key, and fails", async () => {
  const toml = `[tools]\ndefault_policy = "allow"\n\n[daemon]\nmax_message_bytes = "huge"\n[commands]\ndeny_regex = ["(unclosed"]\n`;
  const d = await makeTestDaemon({ toml, files: { "a.txt": "a" } });
  try {
    const file = path.join(d.root, "vtcode.toml");
    const call = await d.cli(["call", "read_file", "path=a.txt"]);
    assert.notEqual(call.code, 0);
    assert.equal(call.stdout, "", "the tool did not run");
    assert.match(
      call.stderr,
      new RegExp(
        // The path once, then one line per problem.
        `${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:\\n {2}line 5: daemon\\.max_message_bytes must be an integer`,
      ),
    );
    assert.match(call.stderr, /line 7: commands\.deny_regex\[0\] "\(unclosed" is not a valid regex/);
    const start = await d.cli(["start"]);
    assert.equal(start.code, 1);
    assert.match(start.stderr, /line 5: daemon\.max_message_bytes/);
    assert.equal(existsSync(d.socket), false, "no daemon is listening");

    await writeFile(file, "[tools\ndefault_policy = 'allow'\n");
    const syntax = await d.cli(["start"]);
    assert.notEqual(syntax.code, 0);
    assert.match(syntax.stderr, /line 1, column \d+: TOML syntax error/);
  } finally {
    await d.cleanup();
  }
});

test("config reload with an invalid file: exit 1 with the reason; the old config stays in force", async () => {
  const d = await makeTestDaemon({
    toml: `[tools.policies]\nlist_files = "deny"\n`,
    files: { "a.txt": "a" },
  });
  try {
    assert.equal((await d.cli(["start"])).code, 0);
    const denied = await d.cli(["call", "list_files"]);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /list_files is denied by policy \(tools\.policies\.list_files = "deny"\)/);

    const file = path.join(d.root, "vtcode.toml");
    await writeFile(file, `[tools.policies]\nlist_files = "allow"\nread_file = "sometimes"\n`);
    const reload = await d.cli(["config", "reload"]);
    assert.equal(reload.code, 1);
    assert.match(reload.stderr, /line 3: tools\.policies\.read_file must be/);
    // Half of the new file was valid; none of it applies.
    assert.equal(
      (await d.cli(["call", "list_files"])).code,
      1,
      "list_files still denied: the old config stays",
    );
    assert.equal(
      (await d.cli(["call", "read_file", "path=a.txt"])).stdout,
      "a",
      "and the daemon still serves",
    );

    await writeFile(file, `[tools.policies]\nlist_files = "allow"\n`);
    assert.equal((await d.cli(["config", "reload"])).code, 0);
    assert.equal((await d.cli(["call", "list_files"])).code, 0);
    assert.match(await readFile(file, "utf8"), /allow/);
  } finally {
    await d.cleanup();
  }
});

test("[commands] rules refuse run_terminal_cmd with the rule's name, even when the policy is allow", async () => {
  const toml = `[tools.policies]\nrun_terminal_cmd = "allow"\n[commands]\ndeny_list = ["rm"]\ndeny_glob = ["git push *"]\n`;
  const d = await makeTestDaemon({ toml, files: { "keep.txt": "k" } });
  try {
    const rm = await d.cli(["call", "run_terminal_cmd", JSON.stringify({ command: "ls && rm -f keep.txt" })]);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /run_terminal_cmd refused: it runs `rm` \(commands\.deny_list = "rm"/);
    assert.equal(existsSync(path.join(d.root, "keep.txt")), true, "nothing ran");
    const push = await d.cli([
      "call",
      "run_terminal_cmd",
      JSON.stringify({ command: ["git", "push", "origin", "main"] }),
    ]);
    assert.equal(push.code, 1);
    assert.match(push.stderr, /commands\.deny_glob = "git push \*"/);
    // An alias is the same tool: the rules apply to it too.
    const alias = await d.cli(["call", "exec_command", JSON.stringify({ cmd: "rm -f keep.txt" })]);
    assert.equal(alias.code, 1);
    assert.match(alias.stderr, /commands\.deny_list = "rm"/);
    assert.equal(existsSync(path.join(d.root, "keep.txt")), true);
    const ok = await d.cli(["call", "run_terminal_cmd", JSON.stringify({ command: "echo fine" })]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /fine/);
  } finally {
    await d.cleanup();
  }
});

test("a prompt policy: denied for a client without approvals, naming the policy and how to allow it", async () => {
  const d = await makeTestDaemon({ files: { "x.txt": "x" } });
  try {
    // Not a terminal and no --yes: the CLI answers the approval request with no.
    const cli = await d.cli(["call", "delete_file", "path=x.txt"]);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /not approved/);
    assert.equal(existsSync(path.join(d.root, "x.txt")), true);
    // A raw client that never said capabilities.approvals.
    const child = spawn("socat", ["-", `UNIX-CONNECT:${d.socket}`], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stdin.end(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "delete_file", arguments: { path: "x.txt" } } })}\n`,
    );
    await new Promise((r) => child.on("close", r));
    const reply = JSON.parse(out.trim()) as { result: { isError: boolean; content: { text: string }[] } };
    assert.equal(reply.result.isError, true);
    assert.match(
      reply.result.content[0]?.text ?? "",
      /needs approval \(tools\.policies\.delete_file = "prompt"\).*set \[tools\.policies\] delete_file = "allow"/,
    );
    assert.equal(existsSync(path.join(d.root, "x.txt")), true);
    // --yes approves.
    assert.equal((await d.cli(["call", "--yes", "delete_file", "path=x.txt"])).code, 0);
    assert.equal(existsSync(path.join(d.root, "x.txt")), false);
  } finally {
    await d.cleanup();
  }
});

test("a prompted call on a full connection (max_in_flight_per_connection = 1) still gets its approval answer", async () => {
  const d = await makeTestDaemon({
    toml: `[daemon]\nmax_in_flight_per_connection = 1\n`,
    files: { "x.txt": "x" },
  });
  try {
    let asked = 0;
    const c = await d.connect({
      onApprove: () => {
        asked++;
        return true;
      },
    });
    try {
      // The call holds the connection's only slot while the daemon waits for client/approve; the
      // answer must still be read (pausing the socket here would deadlock).
      const r = await Promise.race([
        c.callTool("delete_file", { path: "x.txt" }),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("deadlock: no answer in 10 s")), 10_000),
        ),
      ]);
      assert.equal(r.isError, undefined, JSON.stringify(r));
      assert.equal(asked, 1);
      assert.equal(existsSync(path.join(d.root, "x.txt")), false);
    } finally {
      c.close();
    }
  } finally {
    await d.cleanup();
  }
});

test("the client refuses a socket in a folder others can write to, even when something listens there", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "a" } });
  const planted = path.join(d.runDir, "planted");
  await mkdir(planted);
  await chmod(planted, 0o777);
  const sock = path.join(planted, "s.sock");
  let received = 0;
  // Another user's listener: it must never see a byte of our calls.
  const rogue = net.createServer((s) => s.on("data", () => received++));
  await new Promise<void>((r) => rogue.listen(sock, r));
  try {
    const r = await cliWithSocket(d, sock, ["call", "--no-start", "read_file", "path=a.txt"]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /refusing to connect: socket folder .*planted has mode 0777/);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(received, 0, "nothing was sent to the planted socket");
  } finally {
    rogue.close();
    await d.cleanup();
  }
});
