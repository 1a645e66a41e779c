/**
 * The search rows of `npm run bench` (issue #13), each a ratio against ripgrep measured side by
 * side in the same run, medians:
 *
 *   d   warm grep_file: a literal (case-sensitive), a regex (case-sensitive), a regex in smart
 *       case that is case-insensitive (the common agent query): goal <= 0.5x rg
 *   d2  the first grep_file of a freshly started daemon (its index still building) vs rg: <= 1.5x
 *   e   warm list_files recursive vs `rg --files`: <= 0.5x
 *   g   daemon RSS after warming vs corpus bytes: <= 1.5x + 100 MB
 *
 * bench.ts hands in its helpers (`BenchKit`), so this module owns only the search rows.
 */
import type { MessageConnection } from "vscode-jsonrpc/node";
import { fmt, median, ms, type Row } from "./common.js";

interface ToolResult {
  content: { text: string }[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

interface Daemon {
  readonly socket: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What bench.ts lends the rows. */
export interface BenchKit {
  quick: boolean;
  runs: number;
  corpus: string;
  corpusBytes: number;
  hasRg: boolean;
  rows: Row[];
  notes: string[];
  mb(n: number): string;
  timeSpawn(
    cmd: string,
    args: string[],
    opts?: { cwd?: string },
  ): { ms: number; stdout: string; status: number | null };
  connect(socket: string): Promise<{ conn: MessageConnection; close: () => void }>;
  callTool(conn: MessageConnection, name: string, args: Record<string, unknown>): Promise<ToolResult>;
  summariesBuilt(conn: MessageConnection): Promise<void>;
  /** A new daemon on the corpus (for the cold rows), named uniquely. */
  newDaemon(name: string): Daemon;
}

/** The queries of row d; `rg` are rg's flags for the same search (-n -S are added). */
export const SEARCH_QUERIES = [
  {
    name: "literal, case-sensitive",
    args: { pattern: "createElement", literal: true },
    rg: ["-F", "createElement"],
  },
  {
    name: "regex, case-sensitive",
    args: { pattern: "function\\s+\\w+Async", literal: false },
    rg: ["function\\s+\\w+Async"],
  },
  {
    name: "regex, smart case (case-insensitive)",
    args: { pattern: "class\\s+\\w+\\s+extends", literal: false },
    rg: ["class\\s+\\w+\\s+extends"],
  },
] as const;

/** The "path:line" of each line `rg -n --no-heading` printed (scripts/parity.ts reads them too). */
export function rgLines(stdout: string): Set<string> {
  const set = new Set<string>();
  for (const l of stdout.split("\n")) {
    const m = /^(.*?):(\d+):/.exec(l);
    if (m) set.add(`${m[1]!.replace(/^\.\//, "")}:${m[2]}`);
  }
  return set;
}

/** The "path:line" of each grep_file result, to compare with rgLines. */
export function grepLines(r: ToolResult): Set<string> {
  const set = new Set<string>();
  for (const hit of (r.structuredContent?.results ?? []) as { path: string; line: number }[])
    set.add(`${hit.path}:${hit.line}`);
  return set;
}

function sameLines(ours: Set<string>, theirs: Set<string>): string {
  const missing = [...theirs].filter((x) => !ours.has(x)).length;
  const extra = [...ours].filter((x) => !theirs.has(x)).length;
  return missing === 0 && extra === 0
    ? `same ${ours.size} matching lines`
    : `DIFFERENT: rg ${theirs.size} lines, grep_file ${ours.size} (${missing} missing, ${extra} extra)`;
}

const rgArgs = (q: (typeof SEARCH_QUERIES)[number]): string[] => ["-n", "--no-heading", "-S", ...q.rg, "."];

/** d, g, e on a running daemon (warm). */
export async function warmSearchRows(k: BenchKit, daemon: Daemon): Promise<void> {
  const d = await k.connect(daemon.socket);
  try {
    for (const q of SEARCH_QUERIES) {
      const args = { ...q.args, path: ".", max_results: 10000 };
      const ours = grepLines(await k.callTool(d.conn, "grep_file", args)); // warms index + cache
      await k.summariesBuilt(d.conn);
      const times: number[] = [];
      const rgTimes: number[] = [];
      let same = "rg not installed";
      for (let r = 0; r < k.runs; r++) {
        const t = performance.now();
        await k.callTool(d.conn, "grep_file", args);
        times.push(performance.now() - t);
        if (k.hasRg) {
          const rr = k.timeSpawn("rg", rgArgs(q), { cwd: k.corpus });
          rgTimes.push(rr.ms);
          if (r === 0) same = sameLines(ours, rgLines(rr.stdout));
        }
      }
      const oursMs = median(times);
      if (!k.hasRg) {
        k.rows.push({
          id: "d",
          figure: `warm grep_file ${q.name}`,
          baseline: "rg not installed",
          result: ms(oursMs),
          ratio: "—",
          goal: "<= 0.5x rg",
          met: "skipped",
        });
        continue;
      }
      const rgMs = median(rgTimes);
      const ratio = oursMs / rgMs;
      k.rows.push({
        id: "d",
        figure: `warm grep_file ${q.name} \`${q.args.pattern}\`, whole corpus (${same})`,
        baseline: `\`rg ${rgArgs(q).join(" ")}\` ${ms(rgMs)}`,
        result: ms(oursMs),
        ratio: `${fmt(ratio)}x`,
        goal: "<= 0.5x",
        met: ratio <= 0.5 && same.startsWith("same") ? "yes" : "no",
      });
    }

    // g: everything has been read once; the cache holds what fits in max_bytes. Measured at rest:
    // once the search worker threads (transient: they end 2 s after their last search) are gone;
    // the figure right after the last search is reported beside it.
    type Stats = {
      process: { rssBytes: number; searchThreads?: number };
      fileCache: { bytes: number; maxBytes: number; entries: number };
      index?: { dirs?: number; watches?: number; unindexed?: number };
    };
    const busy = (await d.conn.sendRequest("daemon/stats", {})) as Stats;
    let stats = busy;
    for (let waited = 0; (stats.process.searchThreads ?? 0) > 0 && waited < 10_000; waited += 250) {
      await new Promise((r) => setTimeout(r, 250));
      stats = (await d.conn.sendRequest("daemon/stats", {})) as Stats;
    }
    const rss = stats.process.rssBytes;
    const bound = 1.5 * k.corpusBytes + 100 * 1024 * 1024;
    const withinCache = stats.fileCache.bytes <= stats.fileCache.maxBytes;
    k.rows.push({
      id: "g",
      figure: `daemon RSS after warming the whole corpus, at rest (file cache ${k.mb(stats.fileCache.bytes)} in ${stats.fileCache.entries} files, max_bytes ${k.mb(stats.fileCache.maxBytes)}; index ${stats.index?.dirs ?? "?"} folders, ${stats.index?.watches ?? "?"} watches; right after the last search, with ${busy.process.searchThreads ?? 0} search threads alive: ${k.mb(busy.process.rssBytes)})`,
      baseline: `corpus ${k.mb(k.corpusBytes)}`,
      result: k.mb(rss),
      ratio: `${fmt(rss / k.corpusBytes)}x`,
      goal: `<= 1.5x + 100 MB (${k.mb(bound)}), cache within max_bytes`,
      met: rss <= bound && withinCache ? "yes" : "no",
    });

    // e: list every file below the root in one page, as a client wanting the whole list asks.
    const listAll = async (): Promise<number> => {
      let count = 0;
      for (let page = 1; ; page++) {
        const r = await k.callTool(d.conn, "list_files", {
          path: ".",
          mode: "recursive",
          max_items: 100000,
          per_page: 100000,
          page,
          paths_only: true, // what `rg --files` answers: the paths, one per line
        });
        count += r.content[0]!.text.split("\n").filter((l) => l !== "" && !l.startsWith("(")).length;
        if (!r.structuredContent?.has_more) return count;
      }
    };
    const listed = await listAll();
    const times: number[] = [];
    const rgTimes: number[] = [];
    let rgCount = 0;
    for (let r = 0; r < k.runs; r++) {
      const t = performance.now();
      await listAll();
      times.push(performance.now() - t);
      if (k.hasRg) {
        const rr = k.timeSpawn("rg", ["--files", "."], { cwd: k.corpus });
        rgTimes.push(rr.ms);
        rgCount = rr.stdout.split("\n").filter(Boolean).length;
      }
    }
    const ratio = median(times) / median(rgTimes);
    k.rows.push({
      id: "e",
      figure: `warm list_files recursive, paths_only, whole corpus, one page (${listed} entries; rg lists ${rgCount})`,
      baseline: k.hasRg ? `\`rg --files\` ${ms(median(rgTimes))}` : "rg not installed",
      result: ms(median(times)),
      ratio: k.hasRg ? `${fmt(ratio)}x` : "—",
      goal: "<= 0.5x",
      met: !k.hasRg ? "skipped" : ratio <= 0.5 ? "yes" : "no",
    });
  } finally {
    d.close();
  }
}

/**
 * d2: the first grep_file of a freshly started daemon (no index, no cache; the OS page cache is
 * warm for both), each run against an rg run of the same query right after it.
 */
export async function firstGrepRows(k: BenchKit): Promise<void> {
  for (const q of [SEARCH_QUERIES[0], SEARCH_QUERIES[2]]) {
    const times: number[] = [];
    const rgTimes: number[] = [];
    for (let r = 0; r < (k.quick ? 2 : Math.max(3, Math.min(k.runs, 5))); r++) {
      const daemon = k.newDaemon(`cold${r}`);
      await daemon.start();
      const d = await k.connect(daemon.socket);
      const t = performance.now();
      await k.callTool(d.conn, "grep_file", { ...q.args, path: ".", max_results: 10000 });
      times.push(performance.now() - t);
      d.close();
      await daemon.stop();
      if (k.hasRg) rgTimes.push(k.timeSpawn("rg", rgArgs(q), { cwd: k.corpus }).ms);
    }
    if (!k.hasRg) {
      k.rows.push({
        id: "d2",
        figure: `first grep_file ${q.name} after start`,
        baseline: "rg not installed",
        result: ms(median(times)),
        ratio: "—",
        goal: "<= 1.5x",
        met: "skipped",
      });
      continue;
    }
    const ratio = median(times) / median(rgTimes);
    k.rows.push({
      id: "d2",
      figure: `first grep_file ${q.name} \`${q.args.pattern}\` after start (index building, empty cache; OS page cache warm for both)`,
      baseline: `rg ${ms(median(rgTimes))}`,
      result: ms(median(times)),
      ratio: `${fmt(ratio)}x`,
      goal: "<= 1.5x",
      met: ratio <= 1.5 ? "yes" : "no",
    });
  }
}
