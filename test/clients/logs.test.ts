/**
 * The daemon's log: one structured line per call, size-bounded rotation ([daemon] log_max_bytes,
 * log_max_files), and `toold logs [-f]` reading it, following across rotations.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { CLI, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const MAX_BYTES = 8192;

describe("daemon logs", () => {
  let d: TestDaemon;
  let log: string;
  before(async () => {
    d = await makeTestDaemon({
      toml: `[daemon]\nlog_max_bytes = ${MAX_BYTES}\nlog_max_files = 2\n`,
      files: { "a.txt": "a\n" },
    });
    assert.equal((await d.cli(["start"])).code, 0);
    // The daemon reports where it logs (under the runtime override here; ~/.local/state/toold by default).
    const status = JSON.parse((await d.cli(["status", "--json"])).stdout) as { logFile: string };
    log = status.logFile;
    assert.ok(log.startsWith(`${path.dirname(d.runDir)}/state/logs/`), log);
  });
  after(() => d.cleanup());

  it("writes one structured line per call, shown pretty by `toold logs`", async () => {
    assert.equal((await d.cli(["call", "read_file", "path=a.txt"])).code, 0);
    assert.equal((await d.cli(["call", "read_file", "path=none.txt"])).code, 1);
    let pretty = "";
    for (let i = 0; i < 100 && !/outcome=tool_error/.test(pretty); i++) {
      pretty = (await d.cli(["logs"])).stdout;
      await new Promise((r) => setTimeout(r, 20));
    }
    const calls = pretty.split("\n").filter((l) => / call /.test(l));
    assert.equal(calls.length, 2, pretty);
    assert.match(
      calls[0] ?? "",
      /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}dispatch call conn=\d+ method=tools\/call tool=read_file durationMs=[\d.]+ outcome=ok$/,
    );
    assert.match(calls[1] ?? "", / outcome=tool_error$/);
    // --json gives the raw records.
    const raw = (await d.cli(["logs", "--json", "-n", "1"])).stdout.trim();
    assert.equal((JSON.parse(raw) as { msg: string }).msg, "call");
  });

  it("rotates by size, keeps log_max_files generations, and -f follows across rotations", async () => {
    const follower = spawn(
      process.execPath,
      [CLI, "--workspace", d.root, "--socket", d.socket, "logs", "-f", "-n", "1"],
      {
        env: d.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let followed = "";
    follower.stdout.on("data", (c: Buffer) => (followed += c.toString()));
    // It prints the last record once it has the live file open; only what comes after counts.
    const ready = Date.now() + 15_000;
    while (!followed.includes("\n") && Date.now() < ready) await new Promise((r) => setTimeout(r, 20));
    const baseline = followed.length;

    const client = await d.connect();
    // About 26 KiB of call lines: three rotations at 8 KiB. Paced like a busy agent, not a flood:
    // a follower (like tail -F) cannot see generations deleted between two of its polls.
    const CALLS = 150;
    for (let i = 0; i < CALLS; i++) {
      await client.callTool("read_file", { path: "a.txt" });
      await new Promise((r) => setTimeout(r, 10));
    }
    client.close();

    const mine = () =>
      followed
        .slice(baseline)
        .split("\n")
        .filter((l) => / call /.test(l)).length;
    const deadline = Date.now() + 15_000;
    while (mine() < CALLS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    follower.kill("SIGINT");
    assert.equal(mine(), CALLS, "every call line, none lost or doubled across rotations");

    assert.ok(existsSync(`${log}.1`) && existsSync(`${log}.2`), "two rotated generations");
    assert.equal(existsSync(`${log}.3`), false, "no more than log_max_files");
    for (const f of [log, `${log}.1`, `${log}.2`]) {
      // One line may cross the bound: rotation happens before the write that would pass it.
      assert.ok(statSync(f).size <= MAX_BYTES + 1024, `${f} is ${statSync(f).size} bytes`);
      for (const line of readFileSync(f, "utf8").split("\n").filter(Boolean)) JSON.parse(line); // whole lines only
    }
  });
});
