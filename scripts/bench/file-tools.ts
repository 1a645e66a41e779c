/**
 * Rows of issue #11: code_search warm (the daemon's index and file cache) against a cold
 * ast-grep run in a fresh process (scripts/bench/probe-ast-grep.mjs: @ast-grep/napi's own
 * parallel walker, as the `sg` CLI), for a selective and a broad pattern; and a batch read of 50
 * files (read_file `reads`) against 50 single reads, sequential, on one connection.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { median, ms, type Row } from "./common.js";

export interface FileToolsBenchOptions {
  repo: string;
  corpus: string;
  socket: string;
  runs: number;
  quick: boolean;
}

interface Client {
  callTool(
    name: string,
    args: Record<string, unknown>,
  ): Promise<{ isError?: boolean; content: { text: string }[]; structuredContent?: Record<string, unknown> }>;
  close(): void;
}

/** The TypeScript patterns: one whose words few files hold, one that nearly every file matches. */
function patterns(quick: boolean): { id: string; what: string; pattern: string }[] {
  return [
    {
      id: "s",
      what: "selective",
      pattern: quick ? "React.createElement($$$ARGS)" : "JSON.parse($$$ARGS)",
    },
    { id: "s2", what: "broad", pattern: "export function $NAME($$$) { $$$ }" },
  ];
}

/** Up to `n` small text files of the corpus (relative paths), skipping .git and node_modules. */
function smallFiles(root: string, n: number): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      if (found.length >= n) return;
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const child = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && /\.(ts|rs|c|h|md|txt)$/.test(entry.name)) {
        const size = statSync(path.join(root, child)).size;
        if (size > 0 && size < 64 * 1024) found.push(child);
      }
    }
  };
  walk("");
  return found;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const v = await fn();
  return [performance.now() - t, v];
}

export async function fileToolRows(o: FileToolsBenchOptions): Promise<Row[]> {
  const { ToolDClient } = (await import(path.join(o.repo, "dist/client/index.js"))) as {
    ToolDClient: { connect(opts: Record<string, unknown>): Promise<Client> };
  };
  const client = await ToolDClient.connect({ workspace: o.corpus, socket: o.socket });
  const rows: Row[] = [];
  try {
    for (const { id, what, pattern } of patterns(o.quick)) {
      const args = { pattern, language: "typescript", max_results: 1000 };
      await client.callTool("code_search", args); // warms the cache and the parsers
      const warm: number[] = [];
      const cold: number[] = [];
      let warmCount = 0;
      let coldCount = 0;
      for (let run = 0; run < o.runs; run++) {
        const [ms, r] = await timed(() => client.callTool("code_search", args));
        warm.push(ms);
        warmCount = Number(r.structuredContent?.total_matches ?? 0);
        const t = performance.now();
        const probe = spawnSync(
          process.execPath,
          [path.join(o.repo, "scripts/bench/probe-ast-grep.mjs"), o.corpus, "TypeScript", pattern],
          { cwd: o.repo, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
        );
        cold.push(performance.now() - t);
        if (probe.status !== 0) throw new Error(`probe-ast-grep failed: ${probe.stderr}`);
        coldCount = Number(probe.stdout.trim());
      }
      const w = median(warm);
      const c = median(cold);
      rows.push({
        id,
        figure: `code_search warm, ${what} TypeScript pattern \`${pattern}\` (${warmCount} matches; cold: ${coldCount})`,
        baseline: `cold ast-grep run (new process, @ast-grep/napi findInFiles) ${ms(c)}`,
        result: ms(w),
        ratio: (w / c).toFixed(2),
        goal: "< 1",
        met: w < c ? "yes" : "no",
      });
    }

    const files = smallFiles(o.corpus, 50);
    if (files.length < 50)
      throw new Error(`the corpus has only ${files.length} small files; the batch row needs 50`);
    const reads = files.map((p) => ({ path: p }));
    await client.callTool("read_file", { reads });
    const single: number[] = [];
    const batch: number[] = [];
    for (let run = 0; run < o.runs * 3; run++) {
      const [s] = await timed(async () => {
        for (const p of files) await client.callTool("read_file", { path: p });
      });
      single.push(s);
      const [b, r] = await timed(() => client.callTool("read_file", { reads }));
      if (r.structuredContent?.failed !== 0)
        throw new Error(`batch read failed: ${r.content[0]?.text.slice(0, 200)}`);
      batch.push(b);
    }
    const s = median(single);
    const b = median(batch);
    rows.push({
      id: "br",
      figure: "read_file: one call with `reads` of 50 files",
      baseline: `50 single read_file calls, sequential ${ms(s)}`,
      result: ms(b),
      ratio: (b / s).toFixed(2),
      goal: "< 1",
      met: b < s ? "yes" : "no",
    });
  } finally {
    client.close();
  }
  return rows;
}
