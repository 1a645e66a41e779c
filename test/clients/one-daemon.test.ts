/**
 * One daemon per workspace per user, whatever the caller's environment (#14), and what operators
 * see of it: `ps`, `stop --all`, `status` after a crash; and a dead owner never blocks a start
 * (#12 item 8: a zombie, or a pid whose socket refuses connections).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CLI, REPO_ROOT, makeTestDaemon, pidAlive, waitFor, type CliResult } from "../helpers/daemon.js";
import { processStartTime, readState } from "../../src/workspace/registry.js";
import { runtimeFiles } from "../../src/workspace/locate.js";

function run(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env, cwd, timeout: 60_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

/** The environment without any toold or runtime variable: each test adds what it means. */
function bareEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["TOOLD_SOCKET", "TOOLD_RUNTIME_DIR", "XDG_RUNTIME_DIR", "XDG_STATE_HOME"]) delete env[k];
  return { ...env, ...extra };
}

async function tempDir(prefix: string): Promise<string> {
  return realpath(await mkdtemp(path.join(os.tmpdir(), prefix)));
}

describe("one daemon per workspace, whatever the environment", () => {
  let base: string;
  let ws: string;
  before(async () => {
    base = await tempDir("toold-one-");
    ws = path.join(base, "ws");
    await mkdir(path.join(ws, ".git"), { recursive: true });
    await writeFile(path.join(ws, "a.txt"), "one\n");
    await mkdir(path.join(base, "xdg1"), { mode: 0o700 });
    await mkdir(path.join(base, "xdg2"), { mode: 0o700 });
    await mkdir(path.join(base, "state"), { mode: 0o700 });
  });
  after(async () => {
    await run(["stop"], bareEnv(), ws);
    await rm(base, { recursive: true, force: true });
  });

  it("three environments (XDG_RUNTIME_DIR set, set elsewhere, unset; another TMPDIR) share one daemon", async () => {
    // The real per-user registry (/tmp/toold-<uid>): no override, as a user's shells and hosts run.
    const envs = [
      bareEnv({ XDG_RUNTIME_DIR: path.join(base, "xdg1") }),
      bareEnv({ XDG_RUNTIME_DIR: path.join(base, "xdg2"), TMPDIR: base }),
      bareEnv({ XDG_STATE_HOME: path.join(base, "state") }),
    ];
    const pids: number[] = [];
    for (const env of envs) {
      const r = await run(["call", "read_file", "path=a.txt"], env, ws);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "one\n");
      pids.push((JSON.parse((await run(["status", "--json"], env, ws)).stdout) as { pid: number }).pid);
    }
    assert.equal(new Set(pids).size, 1, `one daemon, got pids ${pids.join(", ")}`);
    const ps = JSON.parse((await run(["ps", "--json"], envs[1]!, ws)).stdout) as {
      workspace: string;
      pid: number;
    }[];
    assert.deepEqual(
      ps.filter((r) => r.workspace === ws).map((r) => r.pid),
      [pids[0]],
      "toold ps shows it once",
    );
    const sockets = new Set(
      await Promise.all(envs.map(async (env) => (await run(["socket"], env, ws)).stdout)),
    );
    assert.equal(sockets.size, 1, "toold socket agrees in every environment");
  });
});

describe("an explicit socket does not make a second daemon", () => {
  it("a client with another (or no) TOOLD_SOCKET finds the running daemon", async () => {
    const d = await makeTestDaemon({ files: { "a.txt": "a\n" } });
    try {
      const alt = path.join(d.runDir, "other.sock");
      const first = await run(["--workspace", d.root, "call", "read_file", "path=a.txt"], d.env);
      assert.equal(first.code, 0, first.stderr);
      const pidOf = async (env: NodeJS.ProcessEnv) =>
        (JSON.parse((await run(["--workspace", d.root, "status", "--json"], env)).stdout) as { pid: number })
          .pid;
      const pid = await pidOf(d.env);
      const noSocket = { ...d.env };
      delete noSocket.TOOLD_SOCKET;
      const r = await run(["--workspace", d.root, "call", "read_file", "path=a.txt"], noSocket);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await pidOf(noSocket), pid);
      // Another explicit socket: nothing listens there, and starting one finds the running daemon.
      const altEnv = { ...d.env, TOOLD_SOCKET: alt };
      const other = await run(["--workspace", d.root, "call", "read_file", "path=a.txt"], altEnv);
      assert.equal(other.code, 0, other.stderr);
      assert.equal(existsSync(alt), false, "no second socket");
      const rows = JSON.parse((await run(["ps", "--json"], d.env)).stdout) as { pid: number }[];
      assert.deepEqual(
        rows.map((r) => r.pid),
        [pid],
        "one daemon",
      );
      // Told not to start one, it names the running daemon's socket instead of a plain `toold start`.
      const noStart = await run(["--workspace", d.root, "--no-start", "status"], altEnv);
      assert.equal(noStart.code, 3);
      assert.match(noStart.stderr, new RegExp(`listens on ${d.socket} \\(pass --socket`));
    } finally {
      await d.cleanup();
    }
  });
});

describe("the registry is trusted only when it is ours alone", () => {
  it("a state file in a registry others can write is ignored: it cannot redirect calls", async () => {
    const d = await makeTestDaemon({});
    try {
      const shared = path.join(d.runDir, "shared");
      await mkdir(shared, { mode: 0o777 });
      await chmod(shared, 0o777);
      const decoy = path.join(d.runDir, "decoy.sock");
      const env: NodeJS.ProcessEnv = { ...d.env, TOOLD_RUNTIME_DIR: shared };
      delete env.TOOLD_SOCKET;
      // A live pid (this test) and a socket path of the planter's choosing.
      const planted = runtimeFiles(d.root, decoy, env).state;
      await writeFile(
        planted,
        JSON.stringify({
          pid: process.pid,
          pidStartTime: processStartTime(process.pid),
          version: "0.1.0",
          workspace: d.root,
          socket: decoy,
          logFile: null,
          startedAt: new Date().toISOString(),
          phase: "ready",
        }),
      );
      const r = await run(["--workspace", d.root, "socket"], env);
      assert.equal(r.code, 0, r.stderr);
      assert.notEqual(r.stdout.trim(), decoy);
      assert.ok(r.stdout.startsWith(`${shared}/`), r.stdout);
      const ps = await run(["ps"], env);
      assert.notEqual(ps.code, 0);
      assert.match(ps.stderr, /has mode 0777.*chmod 700/);
    } finally {
      await d.cleanup();
    }
  });
});

describe("a dead owner does not block the next start (#12.8)", () => {
  it("a daemon killed with kill -9 whose zombie is not reaped", async () => {
    const d = await makeTestDaemon({ files: { "a.txt": "a\n" } });
    let holder: ReturnType<typeof spawn> | undefined;
    try {
      // The daemon's parent is `sleep`, which never reaps (as a container's PID 1 may not).
      const entry = path.join(REPO_ROOT, "dist/daemon/entry.js");
      holder = spawn(
        "sh",
        [
          "-c",
          `"$0" "$1" --workspace "$2" --socket "$3" --foreground 2>/dev/null & exec sleep 120`,
          process.execPath,
          entry,
          d.root,
          d.socket,
        ],
        { env: d.env, stdio: "ignore" },
      );
      await waitFor(() => readState(d.state)?.phase === "ready", 20_000, "the first daemon");
      const first = readState(d.state)!.pid;
      process.kill(first, "SIGKILL");
      await waitFor(
        () => readFileSync(`/proc/${first}/stat`, "utf8").split(") ")[1]!.startsWith("Z"),
        5000,
        "a zombie",
      );
      const t0 = Date.now();
      const r = await d.cli(["call", "read_file", "path=a.txt"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "a\n");
      assert.ok(Date.now() - t0 < 10_000, "no wait for a timeout");
      const next = readState(d.state)!.pid;
      assert.notEqual(next, first);
    } finally {
      holder?.kill("SIGKILL");
      await d.cleanup();
    }
  });

  it("an owner alive by pid whose socket refuses connections", async () => {
    const d = await makeTestDaemon({ files: { "a.txt": "a\n" } });
    // A live process (not a daemon) in the lock, as if a ready daemon had lost its socket.
    const squatter = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    try {
      await waitFor(() => processStartTime(squatter.pid!) !== null, 5000, "the squatter");
      await writeFile(
        d.state,
        JSON.stringify({
          pid: squatter.pid,
          pidStartTime: processStartTime(squatter.pid!),
          version: "0.1.0",
          workspace: d.root,
          socket: d.socket,
          logFile: null,
          startedAt: new Date().toISOString(),
          phase: "ready",
        }),
        { mode: 0o600 },
      );
      const r = await d.cli(["call", "read_file", "path=a.txt"]);
      assert.equal(r.code, 0, r.stderr);
      const owner = readState(d.state)!;
      assert.notEqual(owner.pid, squatter.pid);
      assert.equal(squatter.exitCode, null, "the squatter is left alone");
    } finally {
      squatter.kill("SIGKILL");
      await d.cleanup();
    }
  });
});

describe("operators: ps, stop --all, status after a crash", () => {
  it("ps lists every daemon of the runtime folder; stop --all stops them", async () => {
    const a = await makeTestDaemon({ files: { "a.txt": "a\n" } });
    const b = await makeTestDaemon({ files: { "b.txt": "b\n" } });
    // Both in a's runtime folder (the "user"), each on its default socket there.
    const env = { ...a.env };
    delete env.TOOLD_SOCKET;
    try {
      for (const root of [a.root, b.root]) {
        const r = await run(["--workspace", root, "start"], env);
        assert.equal(r.code, 0, r.stderr);
      }
      const rows = JSON.parse((await run(["ps", "--json"], env)).stdout) as {
        workspace: string;
        pid: number;
        uptimeMs: number;
        rssBytes: number;
        socket: string;
        version: string;
      }[];
      assert.deepEqual(rows.map((r) => r.workspace).sort(), [a.root, b.root].sort());
      for (const row of rows) {
        assert.ok(pidAlive(row.pid));
        assert.ok(row.rssBytes > 1_000_000, "RSS in bytes");
        assert.ok(row.uptimeMs >= 0);
        assert.ok(row.socket.startsWith(`${a.runDir}/`), row.socket);
        assert.match(row.version, /^\d+\.\d+\.\d+/);
      }
      const table = (await run(["ps"], env)).stdout;
      assert.match(table, /^PID +UPTIME +RSS/);
      assert.ok(table.includes(a.root) && table.includes(b.root));
      const stop = await run(["stop", "--all"], env);
      assert.equal(stop.code, 0, stop.stderr);
      for (const row of rows) assert.equal(pidAlive(row.pid), false, `pid ${row.pid} stopped`);
      assert.match((await run(["ps"], env)).stdout, /no toold daemon is running/);
    } finally {
      await a.cleanup();
      await b.cleanup();
    }
  });

  it("after kill -9, status says the last daemon died, when, its pid and log, and cleans the stale socket", async () => {
    const d = await makeTestDaemon({ files: { "a.txt": "a\n" } });
    try {
      assert.equal((await d.cli(["start"])).code, 0);
      const state = readState(d.state)!;
      process.kill(state.pid, "SIGKILL");
      await waitFor(() => !pidAlive(state.pid), 5000, "the daemon to die");
      assert.ok(existsSync(d.socket), "the killed daemon left its socket");
      const r = await d.cli(["status"]);
      assert.equal(r.code, 3);
      assert.match(
        r.stderr,
        new RegExp(`the last daemon \\(pid ${state.pid}, .*\\) died around .*; its log: ${state.logFile}`),
      );
      assert.equal(r.stderr.trim().split("\n").length, 1);
      assert.equal(existsSync(d.socket), false, "stale socket removed");
      assert.equal(existsSync(d.state), false, "stale state removed");
      assert.match((await d.cli(["status"])).stderr, /died around/, "still said the second time");
      // A clean stop is told apart.
      assert.equal((await d.cli(["start"])).code, 0);
      assert.equal((await d.cli(["stop"])).code, 0);
      assert.match(
        (await d.cli(["status"])).stderr,
        /the last daemon \(pid \d+, .*\) stopped at .*\(daemon\/shutdown|stopped at/,
      );
      // And `logs` still finds the log.
      assert.equal((await d.cli(["logs", "-n", "1"])).code, 0);
    } finally {
      await d.cleanup();
    }
  });
});

describe("errors a user can act on", () => {
  it("refuses / and the home folder as an implicit workspace, and names the way out", async () => {
    const home = await tempDir("toold-home-");
    const d = await makeTestDaemon({});
    try {
      const env: NodeJS.ProcessEnv = { ...d.env, HOME: home };
      delete env.TOOLD_SOCKET;
      for (const cwd of [home, "/"]) {
        const r = await run(["call", "read_file", "path=x"], env, cwd);
        assert.equal(r.code, 2, `${cwd}: ${r.stderr}`);
        assert.match(r.stderr, /pass --workspace/);
        assert.equal(r.stderr.trim().split("\n").length, 1);
      }
      await writeFile(path.join(home, "x"), "home\n");
      const explicit = await run(["--workspace", home, "call", "read_file", "path=x"], env, "/");
      assert.equal(explicit.code, 0, explicit.stderr);
      assert.equal(explicit.stdout, "home\n");
      await run(["--workspace", home, "stop"], env, "/");
    } finally {
      await d.cleanup();
      await rm(home, { recursive: true, force: true });
    }
  });

  it("--workspace naming a file or nothing: not a folder, exit 2", async () => {
    const d = await makeTestDaemon({ files: { "notes.txt": "n\n" } });
    try {
      const file = await run(["--workspace", "notes.txt", "call", "read_file", "path=x"], d.env, d.root);
      assert.equal(file.code, 2);
      assert.match(file.stderr, /^toold: --workspace notes\.txt is not a folder/);
      const missing = await run(["--workspace", "nope", "start"], d.env, d.root);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /no such folder/);
    } finally {
      await d.cleanup();
    }
  });

  it("start --foreground while a daemon runs: one readable line, non-zero", async () => {
    const d = await makeTestDaemon({});
    try {
      assert.equal((await d.cli(["start"])).code, 0);
      const r = await d.cli(["start", "--foreground"]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^toold: a daemon already serves this workspace \(pid \d+/);
      assert.equal(r.stderr.trim().split("\n").length, 1);
    } finally {
      await d.cleanup();
    }
  });

  it("config check validates vtcode.toml without a daemon: errors and near-miss keys, one per line", async () => {
    const d = await makeTestDaemon({ toml: "[daemon]\nidle_timeout_secs = 30\n" });
    try {
      const ok = await d.cli(["config", "check"]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /vtcode\.toml: ok/);
      await writeFile(path.join(d.root, "vtcode.toml"), "[daemon]\nidle_timeout_sec = 30\n");
      const warned = await d.cli(["config", "check"]);
      assert.equal(warned.code, 0, warned.stderr);
      assert.match(warned.stderr, /idle_timeout_sec/);
      assert.match(warned.stderr, /idle_timeout_secs/, "the nearest known key");
      await writeFile(
        path.join(d.root, "vtcode.toml"),
        '[daemon]\nidle_timeout_secs = "soon"\nlog_level = 7\n',
      );
      const bad = await d.cli(["config", "check"]);
      assert.equal(bad.code, 1);
      const lines = bad.stderr.trimEnd().split("\n");
      assert.equal(lines.filter((l) => l.includes("vtcode.toml")).length, 1, `the path once: ${bad.stderr}`);
      assert.ok(lines.length >= 3, "one line per error");
      const json = JSON.parse((await d.cli(["config", "check", "--json"])).stdout) as {
        ok: boolean;
        errors: string[];
      };
      assert.equal(json.ok, false);
      assert.equal(json.errors.length, lines.length - 1);
      assert.equal((await d.cli(["status"])).code, 3, "no daemon was started");
    } finally {
      await d.cleanup();
    }
  });

  it("stats starts the daemon like tools does", async () => {
    const d = await makeTestDaemon({});
    try {
      const r = await d.cli(["stats", "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok((JSON.parse(r.stdout) as { uptimeMs: number }).uptimeMs >= 0);
    } finally {
      await d.cleanup();
    }
  });
});
