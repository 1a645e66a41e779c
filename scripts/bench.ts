/**
 * `npm run bench`: the benchmark suite of issue #5. Every figure is a ratio against a baseline
 * measured side by side in the same run (median of several runs), written to docs/benchmarks.md.
 *
 *   npm run bench                      full run on the big corpus (TOOLD_BENCH_CORPUS, --corpus DIR,
 *                                      or ../bench-corpus; a missing one is built there with
 *                                      scripts/bench/make-corpus.sh, pinned npm packages)
 *   npm run bench -- --quick           small generated corpus, few runs (CI); writes a temp file
 *   options: --corpus DIR  --runs N  --out FILE  --rows a,b,c,d,e,f,g,h,j,x,m,s,k
 *
 * The daemon and the CLI are the compiled ones in dist/ (built when missing). The daemon runs
 * with --trace-gc so row f can count collections per phase.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { MessageConnection } from "vscode-jsonrpc/node";
import { corpusFacts, findSmallFile, makeQuickCorpus, type CorpusFacts } from "./bench/corpus.js";
import { execRows } from "./bench/exec-latency.js";
import { firstGrepRows, warmSearchRows, type BenchKit } from "./bench/search-rows.js";
import { journalRows } from "./bench/journal.js";
import { confinedOpenRows } from "./bench/confined-open.js";
import { commandRuleRows } from "./bench/command-rules.js";
import { mcpRows } from "./bench/mcp.js";
import { fileToolRows } from "./bench/file-tools.js";
import { fmt, median, ms, type Row } from "./bench/common.js";
import { connectLsp, waitForSocket } from "./bench/socket.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DAEMON = path.join(REPO, "dist/daemon/entry.js");
const CLI = path.join(REPO, "dist/cli/main.js");

// ---------------------------------------------------------------- helpers

const mb = (n: number): string => `${fmt(n / 1024 / 1024, 0)} MB`;

function has(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function timeSpawn(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {},
) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { ...opts, maxBuffer: 512 * 1024 * 1024, encoding: "utf8" });
  return { ms: performance.now() - t, stdout: r.stdout ?? "", status: r.status };
}

interface ToolResult {
  content: { text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

async function callTool(
  conn: MessageConnection,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  const r = (await conn.sendRequest("tools/call", { name, arguments: args })) as ToolResult;
  // A search that finds nothing is an error result, as grep's exit 1, and still a measurement:
  // its structuredContent holds the (empty) results.
  const noMatches =
    Array.isArray(r.structuredContent?.["results"]) && r.structuredContent["results"].length === 0;
  if (r.isError && !noMatches) throw new Error(`${name} failed: ${r.content[0]?.text}`);
  return r;
}

/** A daemon started in the foreground, with GC tracing on its stdout. */
class BenchDaemon {
  private child: ChildProcess | undefined;
  gcEvents = 0;
  readonly socket: string;

  constructor(
    readonly workspace: string,
    runDir: string,
    name: string,
  ) {
    this.socket = path.join(runDir, `${name}.sock`);
  }

  async start(): Promise<void> {
    this.gcEvents = 0;
    const child = spawn(
      process.execPath,
      ["--trace-gc", DAEMON, "--workspace", this.workspace, "--socket", this.socket, "--foreground"],
      {
        stdio: ["ignore", "pipe", "ignore"],
        env: { ...process.env, TOOLD_SOCKET: this.socket },
      },
    );
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      for (const line of chunk.split("\n"))
        if (/Scavenge|Mark-Compact|Mark-sweep|Minor/.test(line)) this.gcEvents++;
    });
    this.child = child;
    await waitForSocket(this.socket);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
    this.child = undefined;
  }
}

// ---------------------------------------------------------------- rows

interface Ctx {
  quick: boolean;
  runs: number;
  corpus: string;
  facts: CorpusFacts;
  small: string;
  runDir: string;
  rows: Row[];
  notes: string[];
  hasRg: boolean;
}

/** a, b: the daemon's tools/call against a bare vscode-jsonrpc echo server, same client. */
async function rowsAB(c: Ctx, daemon: BenchDaemon): Promise<void> {
  const echoSock = path.join(c.runDir, "echo.sock");
  const echo = spawn(
    process.execPath,
    ["--import", "tsx", path.join(REPO, "scripts/bench/echo-server.ts"), echoSock],
    {
      stdio: ["ignore", "pipe", "inherit"],
      cwd: REPO,
    },
  );
  try {
    await waitForSocket(echoSock);
    const e = await connectLsp(echoSock);
    const d = await connectLsp(daemon.socket);
    const args = { path: c.small };
    const seqN = c.quick ? 300 : 2000;
    const seq = async (conn: MessageConnection, name: string): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < seqN; i++) await conn.sendRequest("tools/call", { name, arguments: args });
      return ((performance.now() - t) / seqN) * 1000; // µs per call
    };
    // Warm both (JIT, hot cache, file cache), then alternate runs so drift hits both alike.
    await seq(e.conn, "read_file");
    await seq(d.conn, "read_file");
    const echoSeq: number[] = [];
    const daemonSeq: number[] = [];
    for (let r = 0; r < c.runs; r++) {
      echoSeq.push(await seq(e.conn, "read_file"));
      daemonSeq.push(await seq(d.conn, "read_file"));
    }
    const a = median(daemonSeq) / median(echoSeq);
    c.rows.push({
      id: "a",
      figure: `sequential tools/call read_file (${c.small}), µs per call`,
      baseline: `echo server ${fmt(median(echoSeq), 1)} µs`,
      result: `${fmt(median(daemonSeq), 1)} µs`,
      ratio: `${fmt(a)}x`,
      goal: "<= 1.3x",
      met: a <= 1.3 ? "yes" : "no",
    });

    const pipeN = c.quick ? 2000 : 10000;
    const pipe = async (conn: MessageConnection): Promise<number> => {
      const t = performance.now();
      const all: Promise<unknown>[] = [];
      for (let i = 0; i < pipeN; i++)
        all.push(conn.sendRequest("tools/call", { name: "read_file", arguments: args }));
      await Promise.all(all);
      return pipeN / ((performance.now() - t) / 1000); // calls per second
    };
    await pipe(e.conn);
    await pipe(d.conn);
    const echoTp: number[] = [];
    const daemonTp: number[] = [];
    for (let r = 0; r < c.runs; r++) {
      echoTp.push(await pipe(e.conn));
      daemonTp.push(await pipe(d.conn));
    }
    const b = median(daemonTp) / median(echoTp);
    c.rows.push({
      id: "b",
      figure: `pipelined tools/call read_file, ${pipeN} in flight on one connection, calls/s`,
      baseline: `echo server ${fmt(median(echoTp), 0)}/s`,
      result: `${fmt(median(daemonTp), 0)}/s`,
      ratio: `${fmt(b)}x`,
      goal: ">= 0.7x",
      met: b >= 0.7 ? "yes" : "no",
    });
    e.close();
    d.close();
  } finally {
    echo.kill("SIGTERM");
  }
}

/** c: one-off CLI call vs `node -e 0`; c2: the same call as one NDJSON line through socat. */
async function rowsC(c: Ctx, daemon: BenchDaemon): Promise<void> {
  const env = { ...process.env, TOOLD_SOCKET: daemon.socket };
  const cliArgs = [
    CLI,
    "--workspace",
    c.corpus,
    "--socket",
    daemon.socket,
    "--no-start",
    "call",
    "read_file",
    JSON.stringify({ path: c.small }),
  ];
  const n = c.quick ? 5 : 15;
  const nodeMs: number[] = [];
  const cliMs: number[] = [];
  timeSpawn(process.execPath, cliArgs, { env });
  for (let i = 0; i < n; i++) {
    nodeMs.push(timeSpawn(process.execPath, ["-e", "0"]).ms);
    const r = timeSpawn(process.execPath, cliArgs, { env });
    if (r.status !== 0) throw new Error(`toold call failed with exit ${r.status}`);
    cliMs.push(r.ms);
  }
  const ratio = median(cliMs) / median(nodeMs);
  c.rows.push({
    id: "c",
    figure: "one-off `toold call read_file` from a shell, daemon warm",
    baseline: `\`node -e 0\` ${ms(median(nodeMs))}`,
    result: ms(median(cliMs)),
    ratio: `${fmt(ratio)}x`,
    goal: "<= 1.3x",
    met: ratio <= 1.3 ? "yes" : "no",
  });

  if (!has("socat")) {
    c.rows.push({
      id: "c2",
      figure: "the same call as one NDJSON line through socat",
      baseline: "—",
      result: "socat is not installed (apt-get install socat)",
      ratio: "—",
      goal: "<= 1.3x",
      met: "skipped",
    });
    return;
  }
  const line = `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "read_file", arguments: { path: c.small } } })}\n`;
  // Baseline: the same socat line to a bare NDJSON socket that answers and closes on half-close.
  const echoSock = path.join(c.runDir, "ndjson-echo.sock");
  const echo = spawn(
    process.execPath,
    ["--import", "tsx", path.join(REPO, "scripts/bench/ndjson-echo.ts"), echoSock],
    { stdio: ["ignore", "pipe", "inherit"], cwd: REPO },
  );
  try {
    await waitForSocket(echoSock);
    const socatMs: number[] = [];
    const echoMs: number[] = [];
    let answered = 0;
    for (let i = 0; i < (c.quick ? 9 : 25); i++) {
      echoMs.push(timeSpawn("socat", ["-", `UNIX-CONNECT:${echoSock}`], { input: line }).ms);
      const r = timeSpawn("socat", ["-", `UNIX-CONNECT:${daemon.socket}`], { input: line });
      socatMs.push(r.ms);
      if (r.stdout.includes('"result"')) answered++;
    }
    const m = median(socatMs);
    const ratio = m / median(echoMs);
    c.rows.push({
      id: "c2",
      figure:
        "the same call as one NDJSON line: `echo … | socat - UNIX-CONNECT:$SOCK` (wall time incl. socat start)",
      baseline: `socat to a bare NDJSON echo socket ${ms(median(echoMs))}`,
      result: `${ms(m)}${answered < socatMs.length ? ` (only ${answered}/${socatMs.length} runs got the answer)` : ""}`,
      ratio: `${fmt(ratio)}x`,
      goal: "<= 1.3x",
      met: ratio <= 1.3 && answered === socatMs.length ? "yes" : "no",
    });
  } finally {
    echo.kill("SIGTERM");
  }
}

/**
 * Waits until the daemon has built its background search summaries: the warm steady state the
 * row measures (building them competes for the CPU with the searches being timed).
 */
async function summariesBuilt(conn: MessageConnection): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const s = (await conn.sendRequest("daemon/stats", {})) as { fileCache: { summarizing?: boolean } };
    if (!s.fileCache.summarizing || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** f: each optimisation on vs off on the same daemon (config reload), on the paths it serves. */
async function rowF(c: Ctx): Promise<void> {
  // A copy of part of the corpus, so vtcode.toml can be rewritten without touching the corpus.
  const ws = path.join(c.runDir, "f-ws");
  mkdirSync(ws);
  const files: string[] = [];
  const budget = c.quick ? 5e6 : 40e6;
  let bytes = 0;
  const pickFiles = (dir: string, rel: string): void => {
    for (const name of readdirSorted(path.join(dir, rel))) {
      if (bytes > budget) return;
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, r);
      const st = lstat(abs);
      if (!st || name.startsWith(".")) continue;
      if (st.isDirectory()) pickFiles(dir, r);
      else if (st.isFile() && st.size > 0 && st.size < 256 * 1024 && !readFileSync(abs).includes(0)) {
        mkdirSync(path.dirname(path.join(ws, r)), { recursive: true });
        cpSync(abs, path.join(ws, r));
        files.push(r);
        bytes += st.size;
      }
    }
  };
  pickFiles(c.corpus, "");
  const daemon = new BenchDaemon(ws, c.runDir, "f");
  await daemon.start();
  const d = await connectLsp(daemon.socket);
  const reads = files.slice(0, c.quick ? 200 : 1000);
  type Result = { ms: number; gc: number };
  /**
   * On and off, interleaved run by run so that drift (other load on the machine) hits both
   * alike: each run switches the setting by config reload, does one warm-up pass, then the timed
   * pass, counting the daemon's GCs (--trace-gc) during the timed pass only.
   */
  const compare = async (
    onToml: string,
    offToml: string,
    work: () => Promise<void>,
  ): Promise<[Result, Result]> => {
    const samples: [number[], number[]] = [[], []];
    const gcs = [0, 0];
    for (let r = 0; r < c.runs; r++) {
      for (const [k, toml] of [onToml, offToml].entries()) {
        writeFileSync(path.join(ws, "vtcode.toml"), toml);
        await d.conn.sendRequest("config/reload", {});
        await work();
        await summariesBuilt(d.conn); // background work of the warm-up must not land in the timed pass
        await new Promise((res) => setTimeout(res, 50)); // warm-up GC lines arrive before the count
        const gc0 = daemon.gcEvents;
        const t = performance.now();
        await work();
        samples[k]!.push(performance.now() - t);
        await new Promise((res) => setTimeout(res, 50));
        gcs[k] = (gcs[k] ?? 0) + daemon.gcEvents - gc0;
      }
    }
    return [
      { ms: median(samples[0]), gc: (gcs[0] ?? 0) / c.runs },
      { ms: median(samples[1]), gc: (gcs[1] ?? 0) / c.runs },
    ];
  };
  const readAll = async () => {
    for (const f of reads) await callTool(d.conn, "read_file", { path: f });
  };
  const grep = async () => {
    // "return" is in nearly every JS/TS file: the search reads the whole workspace.
    await callTool(d.conn, "grep_file", {
      pattern: "return",
      literal: true,
      files_with_matches: true,
      max_results: 10000,
    });
  };
  const small = async () => {
    for (let i = 0; i < 500; i++) await callTool(d.conn, "read_file", { path: reads[0]! });
  };
  const report = (
    what: string,
    on: { ms: number; gc: number },
    off: { ms: number; gc: number },
    note: string,
  ) => {
    c.rows.push({
      id: "f",
      figure: what,
      baseline: `off: ${ms(off.ms)}, ${fmt(off.gc, 1)} GCs/run`,
      result: `on: ${ms(on.ms)}, ${fmt(on.gc, 1)} GCs/run`,
      ratio: `${fmt(on.ms / off.ms)}x`,
      goal: "report; default follows",
      met: "n/a",
    });
    c.notes.push(note);
  };
  try {
    const cacheOn = "[cache]\nmax_bytes = 536870912\n";
    const cacheOff = "[cache]\nmax_bytes = 0\n";
    const [fcOnRead, fcOffRead] = await compare(cacheOn, cacheOff, readAll);
    report(
      `file cache, read_file of ${reads.length} files (${mb(bytes)} workspace)`,
      fcOnRead,
      fcOffRead,
      "file cache on/off: `[cache] max_bytes` 512 MiB vs 0; each on/off pair is interleaved run by run (config reload, warm-up pass, timed pass)",
    );
    const [fcOnGrep, fcOffGrep] = await compare(cacheOn, cacheOff, grep);
    report(
      `file cache, grep_file literal \`return\` over the ${files.length}-file workspace`,
      fcOnGrep,
      fcOffGrep,
      "",
    );
    // The pool serves the reads that the cache does not keep: measure it with the cache off.
    const poolOn = `${cacheOff}[optimization.memory_pool]\nenabled = true\n`;
    const poolOff = `${cacheOff}[optimization.memory_pool]\nenabled = false\n`;
    const [poolOnRead, poolOffRead] = await compare(poolOn, poolOff, readAll);
    report(`memory pool (file cache off), read_file of ${reads.length} files`, poolOnRead, poolOffRead, "");
    const [poolOnGrep, poolOffGrep] = await compare(poolOn, poolOff, grep);
    report("memory pool (file cache off), grep_file literal `return`", poolOnGrep, poolOffGrep, "");
    const [hotOn, hotOff] = await compare(
      "[optimization.tool_registry]\nuse_optimized_registry = true\n",
      "[optimization.tool_registry]\nuse_optimized_registry = false\n",
      small,
    );
    report("hot tool cache (registry), 500 read_file calls of one small file", hotOn, hotOff, "");
  } finally {
    d.close();
    await daemon.stop();
  }
}

function readdirSorted(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
function lstat(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- main

/** The helpers the search rows (scripts/bench/search-rows.ts) borrow. */
function searchKit(c: Ctx): BenchKit {
  return {
    quick: c.quick,
    runs: c.runs,
    corpus: c.corpus,
    corpusBytes: c.facts.bytes,
    hasRg: c.hasRg,
    rows: c.rows,
    notes: c.notes,
    mb,
    timeSpawn,
    connect: connectLsp,
    callTool,
    summariesBuilt,
    newDaemon: (name) => new BenchDaemon(c.corpus, c.runDir, name),
  };
}

/** Runs one group of rows; a failure becomes a row that says so, and the other rows still run. */
async function guarded<T>(c: Ctx, id: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    log(`rows ${id} failed: ${(err as Error).stack ?? String(err)}`);
    c.rows.push({
      id,
      figure: "(this group of rows failed)",
      baseline: "—",
      result: `error: ${(err as Error).message}`,
      ratio: "—",
      goal: "—",
      met: "no",
    });
    return undefined;
  }
}

function writeReport(c: Ctx, out: string, command: string, started: Date): void {
  const cpus = os.cpus();
  const rgVersion = c.hasRg
    ? (spawnSync("rg", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0] ?? "")
    : "not installed";
  const lines = [
    "# Benchmarks",
    "",
    c.quick
      ? "**Quick mode** (small generated corpus, few runs): a smoke run for CI, not the figures of record."
      : "Figures of record, from one full run on the developers' corpus with the machine otherwise idle (a 2-core VM whose speed moves between runs: read the ratios, each measured side by side with its baseline in the same run; each figure is the median of the runs). Reproduce: `bash scripts/bench/make-corpus.sh ../bench-corpus && npm run bench -- --corpus ../bench-corpus --runs 5`; row m2 needs the dev dependency `@modelcontextprotocol/server-filesystem` (installed by `npm ci`).",
    "",
    "| # | figure | baseline (same run) | toold | ratio | goal | met |",
    "|---|---|---|---|---|---|---|",
    ...c.rows.map(
      (r) => `| ${r.id} | ${r.figure} | ${r.baseline} | ${r.result} | ${r.ratio} | ${r.goal} | ${r.met} |`,
    ),
    "",
    "## Setup",
    "",
    `- Command: \`${command}\``,
    `- Date: ${started.toISOString()}`,
    `- Machine: ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${mb(os.totalmem())} RAM, ${os.type()} ${os.release()}`,
    `- Node ${process.version}; ${rgVersion}`,
    `- Corpus: ${c.quick ? "generated (scripts/bench/corpus.ts)" : c.corpus}, ${c.facts.files} files, ${c.facts.dirs} folders, ${mb(c.facts.bytes)}`,
    `- Runs per figure: ${c.runs} (medians). The daemon is dist/daemon/entry.js in the foreground with \`--trace-gc\` (GC counts of row f), default config unless the row says otherwise.`,
    ...c.notes.filter(Boolean).map((n) => `- ${n}`),
    "",
  ];
  const analysis = path.join(REPO, "scripts/bench/analysis.md");
  if (!c.quick && existsSync(analysis)) lines.push(readFileSync(analysis, "utf8"));
  writeFileSync(out, lines.join("\n"));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      corpus: { type: "string" },
      runs: { type: "string" },
      out: { type: "string" },
      rows: { type: "string" },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const runs = Number(values.runs ?? (quick ? 3 : 7));
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer (got ${values.runs})`);
  const rowsWanted = new Set((values.rows ?? "a,b,c,d,e,f,g,h,j,x,m,s,k").split(","));
  const started = new Date();

  if (!existsSync(DAEMON) || !existsSync(CLI)) {
    log("dist/ is missing: running npm run build");
    const b = spawnSync("npm", ["run", "build"], { cwd: REPO, stdio: "inherit" });
    if (!existsSync(DAEMON))
      throw new Error(`build failed (exit ${b.status}); run \`npm run build\` and retry`);
  }

  const runDir = mkdtempSync(path.join(os.tmpdir(), "toold-bench-"));
  const sockDir = path.join(runDir, "run");
  mkdirSync(sockDir, { mode: 0o700 });
  let corpus: string;
  if (quick) {
    corpus = path.join(runDir, "corpus");
    await makeQuickCorpus(corpus);
  } else {
    corpus = path.resolve(
      values.corpus ?? process.env.TOOLD_BENCH_CORPUS ?? path.join(REPO, "../bench-corpus"),
    );
    if (!existsSync(path.join(corpus, ".corpus-complete")) && !existsSync(corpus)) {
      const script = path.join(REPO, "scripts/bench/make-corpus.sh");
      if (!existsSync(script)) {
        throw new Error(
          `no corpus at ${corpus} and no ${script} to build one: pass --corpus DIR, or run with --quick`,
        );
      }
      log(`building the corpus at ${corpus} (a few minutes, once)`);
      const r = spawnSync("bash", [script, corpus], { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`make-corpus.sh failed (exit ${r.status})`);
    }
  }
  const small = quick ? "small.txt" : findSmallFile(corpus);
  if (!small) throw new Error(`no small file in ${corpus} for the read_file rows`);
  const hasRg = has("rg");
  if (!hasRg) log("rg (ripgrep) is not installed: rows d, d2 and e are skipped (apt-get install ripgrep)");
  const c: Ctx = {
    quick,
    runs,
    corpus,
    facts: corpusFacts(corpus),
    small,
    runDir: sockDir,
    rows: [],
    notes: [],
    hasRg,
  };
  log(`corpus ${corpus}: ${c.facts.files} files, ${mb(c.facts.bytes)}; ${runs} runs per figure`);

  const daemon = new BenchDaemon(corpus, sockDir, "main");
  try {
    await daemon.start();
    if (rowsWanted.has("a") || rowsWanted.has("b")) {
      log("rows a, b");
      await guarded(c, "a", () => rowsAB(c, daemon));
    }
    if (rowsWanted.has("c")) {
      log("rows c, c2");
      await guarded(c, "c", () => rowsC(c, daemon));
    }
    const kit = searchKit(c);
    if (rowsWanted.has("d") || rowsWanted.has("e") || rowsWanted.has("g")) {
      log("rows d, g, e");
      await guarded(c, "d", () => warmSearchRows(kit, daemon));
    }
    const own = { repo: REPO, corpus, socket: daemon.socket, runs, quick };
    if (rowsWanted.has("m")) {
      log("rows m, m2");
      await guarded(c, "m", async () => void c.rows.push(...(await mcpRows({ ...own, small }))));
    }
    if (rowsWanted.has("s")) {
      log("rows s, s2, br");
      await guarded(c, "s", async () => void c.rows.push(...(await fileToolRows(own))));
    }
    await daemon.stop();
    if (rowsWanted.has("d") || rowsWanted.has("d2")) {
      log("row d2");
      await guarded(c, "d2", () => firstGrepRows(kit));
    }
    if (rowsWanted.has("f")) {
      log("row f");
      await guarded(c, "f", () => rowF(c));
    }
    if (rowsWanted.has("h")) {
      log("row h");
      const measured = (await guarded(c, "h", () => confinedOpenRows(c.corpus, c.runs))) ?? [];
      c.rows.push(...measured.map((m) => ({ id: "h", ...m, goal: "report", met: "n/a" as const })));
    }
    if (rowsWanted.has("x")) {
      log("rows x, x2");
      await guarded(c, "x", async () =>
        c.rows.push(...(await execRows({ ...c, daemon: DAEMON, connect: connectLsp }))),
      );
    }
    if (rowsWanted.has("k")) {
      log("rows k");
      const measured = (await guarded(c, "k", async () => commandRuleRows(c.runs))) ?? [];
      c.rows.push(...measured.map((m) => ({ id: "k", ...m, goal: "report", met: "n/a" as const })));
    }
    if (rowsWanted.has("j")) {
      log("rows j, j2");
      await guarded(c, "j", async () => c.rows.push(...(await journalRows({ repo: REPO, runs, quick }))));
    }
  } finally {
    await daemon.stop();
  }
  const order = [
    "a",
    "b",
    "c",
    "c2",
    "d",
    "d2",
    "e",
    "f",
    "g",
    "h",
    "j",
    "j2",
    "x",
    "x2",
    "m",
    "m2",
    "s",
    "s2",
    "br",
    "k",
  ];
  c.rows.sort((x, y) => order.indexOf(x.id) - order.indexOf(y.id));
  const out = path.resolve(
    values.out ??
      (quick ? path.join(os.tmpdir(), "toold-benchmarks-quick.md") : path.join(REPO, "docs/benchmarks.md")),
  );
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  writeReport(c, out, command, started);
  rmSync(runDir, { recursive: true, force: true });
  process.stdout.write(readFileSync(out, "utf8"));
  log(`wrote ${out}`);
}

main().catch((err: unknown) => {
  log(`bench failed: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
