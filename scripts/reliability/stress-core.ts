/**
 * The load test behind `npm run stress` and test/reliability/stress.test.ts: N clients, each on its
 * own connection, run a seeded mix of reads, greps, listings, edits, patches and short commands.
 * Each client owns a few files and keeps its own log (the content it expects); every read of its
 * files is checked against that log during the run, and every file's bytes on disk after it, so a
 * lost, torn or misplaced write is caught. Shared files are read by everyone and never written.
 */
import { createHash } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { ConnectionClosedError, RpcError, ToolDClient, type ToolResult } from "../../src/client/index.js";
import { mb, percentile, procFdCount, procRss, rng, sleep, type Sandbox } from "./harness.js";

export interface StressOptions {
  clients: number;
  callsPerClient: number;
  filesPerClient: number;
  linesPerFile: number;
  sharedFiles: number;
  seed: number;
  /** Soak: run until this many ms have passed instead of a fixed count per client. */
  soakMs?: number;
  /** Soak: ms between samples. */
  sampleEveryMs?: number;
  onSample?: (s: Sample) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface Sample {
  atMs: number;
  calls: number;
  rssBytes: number | undefined;
  heapUsedBytes: number | undefined;
  fds: number | undefined;
  activeResources: number | undefined;
  connections: number | undefined;
}

export type Op = "read_shared" | "read_own" | "grep" | "list" | "write" | "edit" | "patch" | "cmd";

/** Weights of the mix, out of 100. */
export const MIX: Readonly<Record<Op, number>> = {
  read_shared: 25,
  read_own: 10,
  grep: 15,
  list: 5,
  write: 10,
  edit: 15,
  patch: 12,
  cmd: 8,
};

export interface StressReport {
  clients: number;
  calls: number;
  wallMs: number;
  callsPerSec: number;
  latencyMs: { p50: number; p99: number; max: number };
  perOp: Record<string, { calls: number; p50: number; p99: number; max: number }>;
  /** JSON-RPC errors and closed connections: must be 0. */
  protocolErrors: number;
  /** Tool results with isError where success was expected: must be 0. */
  toolErrors: number;
  /** Reads of a client's own file that did not match its log, during the run: must be 0. */
  mismatchedReads: number;
  /** Files whose final bytes differ from their client's log: must be 0. */
  lostOrTornFiles: number;
  firstErrors: string[];
  grepTool: string;
  rss: { startBytes?: number; peakBytes?: number; endBytes?: number };
  fds: { start?: number; end?: number };
  samples: Sample[];
}

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function fileText(client: number, file: number, versions: number[]): string {
  return versions.map((v, k) => `c${client} f${file} L${k}=v${v};\n`).join("");
}

/** Writes the shared corpus and each client's files; returns the clients' initial logs. */
export async function seedWorkspace(sb: Sandbox, o: StressOptions): Promise<void> {
  const shared = path.join(sb.root, "shared");
  await mkdir(shared, { recursive: true });
  for (let i = 0; i < o.sharedFiles; i++) {
    const lines = Array.from(
      { length: 200 },
      (_, k) => `export const value_${i}_${k} = ${k}; // needle${k % 10}`,
    );
    await writeFile(path.join(shared, `mod${i}.ts`), `${lines.join("\n")}\n`);
  }
  for (let c = 0; c < o.clients; c++) {
    await mkdir(path.join(sb.root, `c${c}`), { recursive: true });
    for (let f = 0; f < o.filesPerClient; f++) {
      await writeFile(
        path.join(sb.root, `c${c}`, `f${f}.txt`),
        fileText(c, f, new Array<number>(o.linesPerFile).fill(0)),
      );
    }
  }
}

class LatencyLog {
  all: number[] = [];
  readonly byOp = new Map<Op, number[]>();
  clear(): void {
    this.all = [];
    this.byOp.clear();
  }
  add(op: Op, ms: number): void {
    this.all.push(ms);
    let list = this.byOp.get(op);
    if (!list) this.byOp.set(op, (list = []));
    list.push(ms);
  }
}

interface Tally {
  calls: number;
  protocolErrors: number;
  toolErrors: number;
  mismatchedReads: number;
  firstErrors: string[];
}

function note(t: Tally, message: string): void {
  if (t.firstErrors.length < 20) t.firstErrors.push(message);
}

/** One client: its connection, its files' versions (the log), its PRNG. */
class StressClient {
  readonly versions: number[][];
  private readonly random: () => number;
  private op = 0;

  constructor(
    readonly id: number,
    private readonly client: ToolDClient,
    private readonly o: StressOptions,
    private readonly grepTool: string | undefined,
    private readonly lat: LatencyLog,
    private readonly t: Tally,
  ) {
    this.versions = Array.from({ length: o.filesPerClient }, () => new Array<number>(o.linesPerFile).fill(0));
    this.random = rng(o.seed * 7919 + id);
  }

  private pick(n: number): number {
    return Math.floor(this.random() * n);
  }

  private choose(): Op {
    let r = this.random() * 100;
    for (const [op, w] of Object.entries(MIX) as [Op, number][]) {
      if ((r -= w) < 0) return op;
    }
    return "read_shared";
  }

  private rel(file: number): string {
    return `c${this.id}/f${file}.txt`;
  }

  expected(file: number): string {
    return fileText(this.id, file, this.versions[file]!);
  }

  /** Runs one call of the mix and checks its result against this client's log. */
  async step(): Promise<void> {
    const op = this.choose();
    const file = this.pick(this.o.filesPerClient);
    const line = this.pick(this.o.linesPerFile);
    const next = ++this.op;
    let name: string;
    let args: Record<string, unknown>;
    let apply: (() => void) | undefined;
    let check: ((r: ToolResult) => string | undefined) | undefined;
    switch (op) {
      case "read_shared":
        name = "read_file";
        args = { path: `shared/mod${this.pick(this.o.sharedFiles)}.ts` };
        check = (r) =>
          r.content[0]?.text.startsWith("export const value_") ? undefined : "shared file read wrong";
        break;
      case "read_own": {
        name = "read_file";
        args = { path: this.rel(file) };
        const want = sha(this.expected(file));
        check = (r) => {
          if (r.structuredContent?.sha256 === want) return undefined;
          this.t.mismatchedReads++;
          return `${this.rel(file)} read back differs from the client's log`;
        };
        break;
      }
      case "grep":
        if (this.grepTool) {
          name = this.grepTool;
          args = { pattern: `needle${this.pick(10)}`, path: "shared" };
        } else {
          name = "list_files";
          args = { path: "shared" };
        }
        break;
      case "list":
        name = "list_files";
        args = { path: `c${this.id}` };
        check = (r) =>
          r.content[0]?.text.includes("f0.txt") ? undefined : "own folder listing lacks f0.txt";
        break;
      case "write": {
        name = "write_file";
        const versions = this.versions[file]!.map(() => next);
        args = { path: this.rel(file), content: fileText(this.id, file, versions) };
        apply = () => (this.versions[file] = versions);
        break;
      }
      case "edit": {
        name = "edit_file";
        const cur = this.versions[file]![line]!;
        args = { path: this.rel(file), old_str: `L${line}=v${cur};`, new_str: `L${line}=v${next};` };
        apply = () => (this.versions[file]![line] = next);
        break;
      }
      case "patch": {
        name = "apply_patch";
        const cur = this.versions[file]![line]!;
        const prefix = `c${this.id} f${file} `;
        args = {
          input: [
            "*** Begin Patch",
            `*** Update File: ${this.rel(file)}`,
            "@@",
            `-${prefix}L${line}=v${cur};`,
            `+${prefix}L${line}=v${next};`,
            "*** End Patch",
          ].join("\n"),
        };
        apply = () => (this.versions[file]![line] = next);
        break;
      }
      case "cmd":
        name = "run_terminal_cmd";
        args =
          this.random() < 0.5
            ? { command: ["echo", `c${this.id}-${next}`] }
            : { command: `printf %s c${this.id}-${next}` };
        check = (r) =>
          r.content[0]?.text.includes(`c${this.id}-${next}`) ? undefined : "command output missing";
        break;
    }
    const started = performance.now();
    let result: ToolResult;
    try {
      result = await this.client.callTool(name, args);
    } catch (err) {
      this.t.calls++;
      this.t.protocolErrors++;
      note(
        this.t,
        `client ${this.id} ${name}: ${err instanceof RpcError ? `RPC ${err.code} ` : ""}${(err as Error).message}`,
      );
      if (err instanceof ConnectionClosedError) throw err;
      return;
    } finally {
      this.lat.add(op, performance.now() - started);
    }
    this.t.calls++;
    if (result.isError) {
      this.t.toolErrors++;
      note(
        this.t,
        `client ${this.id} ${name} ${JSON.stringify(args).slice(0, 120)}: ${result.content[0]?.text.slice(0, 300)}`,
      );
      // A failed write leaves the file as it was, so the log stays as it was too.
      return;
    }
    apply?.();
    const problem = check?.(result);
    if (problem) {
      this.t.toolErrors++;
      note(this.t, `client ${this.id}: ${problem}`);
    }
  }
}

async function sample(client: ToolDClient, pid: number, atMs: number, calls: number): Promise<Sample> {
  const s = await client.stats().catch(() => undefined);
  const proc = s?.process;
  return {
    atMs,
    calls,
    rssBytes: procRss(pid) ?? proc?.rssBytes,
    heapUsedBytes: proc?.heapUsedBytes,
    fds: procFdCount(pid),
    activeResources: proc?.activeResources,
    connections: s?.connections.active,
  };
}

/** Runs the load against a daemon already serving `sb` (pid `pid`). The workspace must be seeded. */
export async function runStress(sb: Sandbox, pid: number, o: StressOptions): Promise<StressReport> {
  const monitor = await ToolDClient.connect({
    workspace: sb.root,
    socket: sb.socket,
    env: sb.env,
    autoStart: false,
  });
  const tools = await monitor.listTools();
  const names = new Set(tools.map((t) => t.name));
  for (const needed of [
    "read_file",
    "list_files",
    "write_file",
    "edit_file",
    "apply_patch",
    "run_terminal_cmd",
  ]) {
    if (!names.has(needed)) throw new Error(`the daemon has no ${needed} tool; the stress mix needs it`);
  }
  const grepTool = names.has("grep_file") ? "grep_file" : undefined;
  const lat = new LatencyLog();
  const t: Tally = { calls: 0, protocolErrors: 0, toolErrors: 0, mismatchedReads: 0, firstErrors: [] };
  const connections = await Promise.all(
    Array.from({ length: o.clients }, (_, i) =>
      ToolDClient.connect({
        workspace: sb.root,
        socket: sb.socket,
        env: sb.env,
        autoStart: false,
        clientInfo: { name: `stress-${i}` },
      }),
    ),
  );
  const clients = connections.map((c, i) => new StressClient(i, c, o, grepTool, lat, t));
  // Warm-up, then the RSS baseline: the first calls build tool instances and fill pools, which
  // is start-up cost, not growth.
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < 10; i++) await c.step();
    }),
  );
  // Errors during warm-up still count; calls and latencies are measured from here.
  lat.clear();
  t.calls = 0;
  const start = await sample(monitor, pid, 0, t.calls);
  const samples: Sample[] = [start];
  o.onSample?.(start);
  let peak = start.rssBytes ?? 0;
  const began = performance.now();
  const total = o.clients * o.callsPerClient;
  let stop = false;
  const sampler = (async () => {
    const every = o.sampleEveryMs ?? 1000;
    while (!stop) {
      await sleep(every);
      if (stop) break;
      const s = await sample(monitor, pid, Math.round(performance.now() - began), t.calls);
      peak = Math.max(peak, s.rssBytes ?? 0);
      if (o.soakMs !== undefined) {
        samples.push(s);
        o.onSample?.(s);
      } else {
        o.onProgress?.(t.calls, total);
      }
    }
  })();
  const deadline = o.soakMs !== undefined ? began + o.soakMs : Infinity;
  await Promise.all(
    clients.map(async (c) => {
      try {
        if (o.soakMs !== undefined) {
          while (performance.now() < deadline) await c.step();
        } else {
          for (let i = 0; i < o.callsPerClient; i++) await c.step();
        }
      } catch {
        /* the connection closed: counted as a protocol error, this client stops */
      }
    }),
  );
  const wallMs = performance.now() - began;
  stop = true;
  await sampler;
  for (const c of connections) c.close();
  // Let the daemon settle (closed sockets, finished command reaps) before the end sample.
  await sleep(1500);
  const end = await sample(monitor, pid, Math.round(performance.now() - began), t.calls);
  samples.push(end);
  o.onSample?.(end);
  monitor.close();

  // The final check: each client's files on disk against its own log.
  let lostOrTorn = 0;
  for (const c of clients) {
    for (let f = 0; f < o.filesPerClient; f++) {
      const rel = `c${c.id}/f${f}.txt`;
      const actual = await readFile(path.join(sb.root, rel), "utf8").catch(
        (e: Error) => `<unreadable: ${e.message}>`,
      );
      if (actual !== c.expected(f)) {
        lostOrTorn++;
        note(t, `${rel}: final content differs from client ${c.id}'s log`);
      }
    }
  }

  const sorted = [...lat.all].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  const perOp: StressReport["perOp"] = {};
  for (const [op, list] of [...lat.byOp].sort(([a], [b]) => a.localeCompare(b))) {
    const s = [...list].sort((a, b) => a - b);
    perOp[op] = {
      calls: s.length,
      p50: round(percentile(s, 50)),
      p99: round(percentile(s, 99)),
      max: round(s[s.length - 1] ?? 0),
    };
  }
  return {
    clients: o.clients,
    calls: t.calls,
    wallMs: Math.round(wallMs),
    callsPerSec: Math.round((t.calls / wallMs) * 1000),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted[sorted.length - 1] ?? 0),
    },
    perOp,
    protocolErrors: t.protocolErrors,
    toolErrors: t.toolErrors,
    mismatchedReads: t.mismatchedReads,
    lostOrTornFiles: lostOrTorn,
    firstErrors: t.firstErrors,
    grepTool: grepTool ?? "list_files (no grep_file tool in this build)",
    rss: {
      ...(start.rssBytes !== undefined ? { startBytes: start.rssBytes } : {}),
      ...(peak ? { peakBytes: peak } : {}),
      ...(end.rssBytes !== undefined ? { endBytes: end.rssBytes } : {}),
    },
    fds: {
      ...(start.fds !== undefined ? { start: start.fds } : {}),
      ...(end.fds !== undefined ? { end: end.fds } : {}),
    },
    samples,
  };
}

export function formatSample(s: Sample): string {
  return `t=${(s.atMs / 1000).toFixed(0).padStart(5)} s  calls=${String(s.calls).padStart(8)}  rss=${mb(s.rssBytes).padStart(9)}  heap=${mb(s.heapUsedBytes).padStart(9)}  fds=${String(s.fds ?? "?").padStart(4)}  handles=${String(s.activeResources ?? "?").padStart(4)}  conns=${s.connections ?? "?"}`;
}
