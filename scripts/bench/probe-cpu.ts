/**
 * CPU time, not wall time, of warm grep_file queries (in-process, after the summaries are built)
 * against rg's user+system CPU time for the same search: a comparison that the load of a shared
 * machine distorts less than wall time (rg's two threads are summed). Used for the d rows'
 * analysis in docs/benchmarks.md. Usage: tsx scripts/bench/probe-cpu.ts [CORPUS] [RUNS]
 */
import { spawnSync } from "node:child_process";
import { pino } from "pino";
import { defaultConfig } from "../../src/config/load.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import type { ToolContext } from "../../src/tools/shared/types.js";
import { SEARCH_QUERIES } from "./search-rows.js";

const root = process.argv[2] ?? "/work/corpus";
const runs = Number(process.argv[3] ?? 5);
const config = defaultConfig();
const files = new FileCache({ maxBytes: config.cache.max_bytes });
const index = new WorkspaceIndex({ root, cache: files });
const registry = new ToolRegistry(BUILTIN_TOOLS, config.optimization.tool_registry);
const ctx: ToolContext = {
  signal: new AbortController().signal,
  workspace: new Workspace(root),
  pool: new BufferPool({ enabled: true, maxPerClass: 64 }),
  config,
  log: pino({ level: "silent" }),
  files,
  index,
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
await index.start();
for (const q of SEARCH_QUERIES) {
  const args = { ...q.args, path: ".", max_results: 10000 };
  await registry.call("grep_file", args, ctx);
  while (files.stats().summarizing) await new Promise((r) => setTimeout(r, 50));
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    await registry.call("grep_file", args, ctx);
    const c = process.cpuUsage(c0);
    ours.push((c.user + c.system) / 1000);
    const rg = spawnSync("/usr/bin/time", ["-f", "%U %S", "rg", "-n", "--no-heading", "-S", ...q.rg, "."], {
      cwd: root,
      encoding: "utf8",
      maxBuffer: 1e9,
    });
    const [u, s] = rg.stderr.trim().split("\n").pop()!.split(" ").map(Number);
    theirs.push((u! + s!) * 1000);
  }
  const o = median(ours);
  const t = median(theirs);
  console.log(
    `${q.name}: grep_file ${o.toFixed(0)} ms CPU, rg ${t.toFixed(0)} ms CPU, ratio ${(o / t).toFixed(2)}`,
  );
}
index.dispose();
process.exit(0);
