import { pino } from "pino";
import { defaultConfig } from "../../src/config/load.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
const root = process.argv[2] ?? "/work/corpus";
const config = defaultConfig();
const files = new FileCache({ maxBytes: config.cache.max_bytes });
const index = new WorkspaceIndex({ root, cache: files });
const registry = new ToolRegistry(BUILTIN_TOOLS, config.optimization.tool_registry);
const ctx = { signal: new AbortController().signal, workspace: new Workspace(root), pool: new BufferPool({ enabled: true, maxPerClass: 64 }), config, log: pino({ level: "silent" }), files, index };
const args = JSON.parse(process.argv[3] ?? '{"pattern":"createElement","literal":true,"max_results":10000}');
const n = Number(process.argv[4] ?? 1);
for (let i = 0; i < n; i++) {
  if (i === 1) while (files.stats().summarizing) await new Promise((r) => setTimeout(r, 50));
  if (i === n - 1 && process.env.PROFILE_LAST) (await import("node:inspector")).default; 
const t = performance.now();
const r = await registry.call("grep_file", args, ctx as never);
console.log(i, (performance.now() - t).toFixed(0), "ms", (r.structuredContent as any)?.total_matches, Math.round(process.memoryUsage().rss/1e6), "MB");
}
index.dispose();
