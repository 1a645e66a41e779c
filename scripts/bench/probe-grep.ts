/**
 * Profiling aid for rows d/g: runs grep_file in-process (no socket) on a corpus, four times,
 * printing time, matches, file cache stats and RSS. Use with `node --cpu-prof --import tsx`.
 * Usage: tsx scripts/bench/probe-grep.ts [CORPUS] [ARGS_JSON]
 */
import { pino } from "pino";
import { defaultConfig } from "../../src/config/load.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import type { ToolContext } from "../../src/tools/shared/types.js";
const root = process.argv[2] ?? "/work/bench-corpus";
const config = defaultConfig();
const pool = new BufferPool({ enabled: true, maxPerClass: 64 });
const registry = new ToolRegistry(BUILTIN_TOOLS, config.optimization.tool_registry);
const files = new FileCache({ maxBytes: config.cache.max_bytes });
const index = new WorkspaceIndex({ root, cache: files });
const ctx: ToolContext = {
  signal: new AbortController().signal,
  workspace: new Workspace(root),
  pool,
  config,
  log: pino({ level: "silent" }),
  files,
  index,
};
const args = JSON.parse(
  process.argv[3] ?? '{"pattern":"createElement","literal":true,"max_results":10000}',
) as Record<string, unknown>;
for (let i = 0; i < 5; i++) {
  // From the third call on: the background trigram summaries are built (the warm steady state).
  while (i === 2 && files.stats().summarizing) await new Promise((r) => setTimeout(r, 100));
  const t = performance.now();
  const r = await registry.call("grep_file", args, ctx);
  console.log(
    i,
    (performance.now() - t).toFixed(0),
    "ms",
    JSON.stringify(index.stats()),
    r.structuredContent?.total_matches,
    JSON.stringify(files.stats()),
    Math.round(process.memoryUsage().rss / 1e6),
    "MB",
  );
}
index.dispose();
