/**
 * The real compiled CLI as scripts and operators use it: `call` output and exit codes (0 ok,
 * 1 tool error, 2 usage/params error, 3 daemon unreachable), and `stats` in every format.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { CLI, assertCtrlCCancelsCall, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

describe("toold call exit codes and output", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
  });
  after(() => d.cleanup());

  it("exits 3 when the daemon is unreachable and --no-start forbids starting it", async () => {
    const r = await d.cli(["call", "read_file", "path=a.txt", "--no-start"]);
    assert.equal(r.code, 3);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /^toold: no toold daemon is running .*toold start/m);
    assert.equal((await d.cli(["stats", "--no-start"])).code, 3);
    assert.equal((await d.cli(["status"])).code, 3);
  });

  it("exits 0 and prints the tool's text (starting the daemon)", async () => {
    const r = await d.cli(["call", "read_file", "path=a.txt"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "alpha\n");
    assert.equal(r.stderr, "");
  });

  it("reads JSON arguments from stdin with -, and prints the whole result with --json", async () => {
    const r = await d.cli(["call", "read_file", "-", "--json"], { input: '{"path":"a.txt"}' });
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as { content: { type: string; text: string }[]; isError?: boolean };
    assert.deepEqual(result.content[0], { type: "text", text: "alpha\n" });
    assert.equal(result.isError, undefined);
  });

  it("exits 1 on a tool error, with the reason on stderr and nothing on stdout", async () => {
    const r = await d.cli(["call", "read_file", "path=missing.txt"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /missing\.txt/);
    const json = await d.cli(["call", "read_file", "path=missing.txt", "--json"]);
    assert.equal(json.code, 1);
    assert.equal((JSON.parse(json.stdout) as { isError: boolean }).isError, true);
  });

  it("exits 2 on usage and parameter errors, saying what was wrong", async () => {
    const cases: [string[], RegExp, string?][] = [
      [["call", "no_such_tool"], /unknown tool "no_such_tool"/],
      [["call", "read_file", "path=7"], /path/],
      [["call", "read_file", "{not json"], /not valid JSON/],
      [["call", "read_file", "-"], /stdin must be a JSON object/, "[1,2]"],
      [["call"], /needs a tool name/],
      [["call", "read_file", "justaword"], /not key=value/],
      [["stats", "--interval", "0"], /--interval must be a positive number/],
      [["frobnicate"], /unknown command/],
    ];
    for (const [args, message, input] of cases) {
      const r = await d.cli(args, input === undefined ? {} : { input });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, "one line on stderr");
    }
  });
});

describe("toold call and Ctrl-C", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({});
  });
  after(() => d.cleanup());

  it("cancels the call in the daemon and exits 1", async () => {
    await assertCtrlCCancelsCall(d);
  });
});

/** Checks the text exposition format line by line; returns samples by name+labels. */
function parsePrometheus(text: string): Map<string, number> {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.trimEnd().split("\n")) {
    const type = /^# TYPE (\w+) (counter|gauge|summary)$/.exec(line);
    if (type) {
      assert.ok(!types.has(type[1] as string), `one TYPE line per family: ${line}`);
      types.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith("# HELP ")) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (-?[0-9.e+-]+)$/.exec(line);
    assert.ok(m, `malformed sample line: ${line}`);
    const [, name, labels = ""] = m;
    const family = (name as string).replace(/_count$|_sum$/, "");
    const familyType = types.get(name as string) ?? types.get(family);
    assert.ok(familyType, `sample before its TYPE: ${line}`);
    if (familyType === "counter") assert.match(name as string, /_total$/, `counter without _total: ${name}`);
    samples.set(`${name}${labels}`, Number(m[3]));
  }
  return samples;
}

describe("toold stats formats", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "alpha\n" } });
    for (let i = 0; i < 3; i++) assert.equal((await d.cli(["call", "read_file", "path=a.txt"])).code, 0);
    assert.equal((await d.cli(["call", "read_file", "path=nope"])).code, 1);
  });
  after(() => d.cleanup());

  it("prints a table with per-tool calls, errors and latency, ratios, bytes and memory", async () => {
    const r = await d.cli(["stats"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^tool\s+calls\s+errors\s+p50 ms\s+p99 ms\s+max ms$/m);
    assert.match(r.stdout, /^read_file\s+4\s+1\s+[\d.]+\s+[\d.]+\s+[\d.]+$/m);
    assert.match(r.stdout, /^hot cache .*hit ratio \d+\.\d%/m);
    assert.match(r.stdout, /^memory pool .*hit ratio/m);
    assert.match(r.stdout, /^file cache .* of [\d.]+ MiB/m);
    assert.match(r.stdout, /^process\s+rss [\d.]+ MiB\s+heap/m);
    assert.match(r.stdout, /connections \d+ active/);
  });

  it("prints the stats object with --json", async () => {
    const stats = JSON.parse((await d.cli(["stats", "--json"])).stdout) as {
      tools: Record<string, { calls: number; errors: number }>;
    };
    assert.deepEqual(
      { calls: stats.tools.read_file?.calls, errors: stats.tools.read_file?.errors },
      { calls: 4, errors: 1 },
    );
  });

  it("prints valid Prometheus text with counters, gauges and a latency summary", async () => {
    const r = await d.cli(["stats", "--prometheus"]);
    assert.equal(r.code, 0, r.stderr);
    const samples = parsePrometheus(r.stdout);
    assert.equal(samples.get('toold_tool_calls_total{tool="read_file"}'), 4);
    assert.equal(samples.get('toold_tool_errors_total{tool="read_file"}'), 1);
    assert.equal(samples.get('toold_tool_duration_seconds_count{tool="read_file"}'), 4);
    const p50 = samples.get('toold_tool_duration_seconds{tool="read_file",quantile="0.5"}') ?? -1;
    const p99 = samples.get('toold_tool_duration_seconds{tool="read_file",quantile="0.99"}') ?? -1;
    assert.ok(p50 > 0 && p99 >= p50 && p99 < 60, `quantiles in seconds: ${p50} ${p99}`);
    const sum = samples.get('toold_tool_duration_seconds_sum{tool="read_file"}') ?? -1;
    assert.ok(sum >= p50 && sum < 240, `_sum is the total of 4 calls in seconds: ${sum}`);
    assert.ok((samples.get("toold_hot_cache_hits_total") ?? -1) >= 1);
    assert.ok((samples.get("toold_process_resident_memory_bytes") ?? 0) > 1024 * 1024);
    assert.ok((samples.get("toold_connections_total") ?? 0) >= 5);
  });

  it("--watch on a terminal redraws in place", async () => {
    // `script` (util-linux) gives the CLI a pseudo-terminal.
    const cmd = [process.execPath, ...d.cliArgv(["stats", "--watch", "--interval", "0.1", "--count", "2"])]
      .map((a) => `'${a}'`)
      .join(" ");
    const r = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn("script", ["-qec", cmd, "/dev/null"], {
        env: d.env,
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.once("exit", (code) => resolve({ code, out }));
    });
    assert.equal(r.code, 0);
    const frames = r.out.split("\x1b[H\x1b[2J").slice(1);
    assert.equal(frames.length, 2, JSON.stringify(r.out.slice(0, 200)));
    for (const frame of frames) assert.match(frame, /^toold stats .*\(Ctrl-C to stop\)[^]*read_file\s+4\s+1/);
  });

  it("--watch redraws until Ctrl-C, then exits 0", async () => {
    const child = spawn(
      process.execPath,
      [CLI, "--workspace", d.root, "--socket", d.socket, "stats", "--watch", "--json", "--interval", "0.1"],
      {
        env: d.env,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const frames = () => out.split("\n").filter((l) => l.startsWith("{")).length;
    const deadline = Date.now() + 20_000;
    while (frames() < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(frames() >= 3, `three frames, got ${frames()}`);
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    assert.equal(await exited, 0);
    // Each frame is a whole stats object; uptime moves forward.
    const uptimes = out
      .trim()
      .split("\n")
      .map((l) => (JSON.parse(l) as { uptimeMs: number }).uptimeMs);
    assert.ok((uptimes.at(-1) ?? 0) > (uptimes[0] ?? 0));
  });
});
