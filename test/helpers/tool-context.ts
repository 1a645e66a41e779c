/** Builds a real ToolContext on a temp workspace, for unit tests of tools. */
import { mkdtemp, mkdir, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pino } from "pino";
import { defaultConfig, parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { ToolRegistry } from "../../src/tools/registry.js";
import { BUILTIN_TOOLS } from "../../src/tools/index.js";
import type { ToolContext, ToolResult } from "../../src/tools/shared/types.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { WorkspaceIndex } from "../../src/index/workspace-index.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { SessionManager } from "../../src/exec/manager.js";
import type { Containment } from "../../src/exec/containment.js";

export interface TestWorkspace {
  root: string;
  workspace: Workspace;
  pool: BufferPool;
  config: Config;
  registry: ToolRegistry;
  /** The shared file cache every context gets (as in the daemon). */
  files: FileCache;
  /** The watched tree (unless `warm: false` or `[cache] watch = false`); started by the first tool that syncs it. */
  index: WorkspaceIndex | undefined;
  /** The exec sessions every context gets (as in the daemon); ended by cleanup. */
  sessions: SessionManager;
  /** A fresh context; pass a signal to test cancellation. */
  context(overrides?: Partial<ToolContext>): ToolContext;
  /** Runs a tool by name through the registry (validation, aliases, error mapping). */
  call(name: string, args: Record<string, unknown>, overrides?: Partial<ToolContext>): Promise<ToolResult>;
  /** Writes files relative to the root, creating folders. */
  write(files: Record<string, string | Buffer>): Promise<void>;
  cleanup(): Promise<void>;
}

export async function makeTestWorkspace(
  opts: { toml?: string; warm?: boolean; containment?: () => Promise<Containment> } = {},
): Promise<TestWorkspace> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-test-")));
  const config = opts.toml ? parseConfig(opts.toml, "vtcode.toml").config : defaultConfig();
  const workspace = new Workspace(root);
  const pool = new BufferPool({
    enabled: config.optimization.memory_pool.enabled,
    maxPerClass: config.optimization.memory_pool.max_string_pool_size,
  });
  const registry = new ToolRegistry(BUILTIN_TOOLS, config.optimization.tool_registry);
  const log = pino({ level: "silent" });
  const files = new FileCache({ maxBytes: config.cache.max_bytes });
  // As in the daemon: warm unless `[cache] watch = false` (or `warm: false`).
  const index = (opts.warm ?? config.cache.watch) ? new WorkspaceIndex({ root, cache: files }) : undefined;
  const sessions = new SessionManager({
    limits: () => config.exec,
    log,
    workspaceKey: "test",
    ...(opts.containment ? { containment: opts.containment } : {}),
  });
  const context = (overrides: Partial<ToolContext> = {}): ToolContext => ({
    signal: new AbortController().signal,
    workspace,
    pool,
    config,
    log,
    files,
    ...(index ? { index } : {}),
    sessions,
    ...overrides,
  });
  return {
    root,
    workspace,
    pool,
    config,
    registry,
    files,
    index,
    sessions,
    context,
    call: (name, args, overrides) => registry.call(name, args, context(overrides)),
    async write(files) {
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(root, rel);
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, content);
      }
    },
    cleanup: async () => {
      index?.dispose();
      await sessions.shutdown();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** The text of a result's first content item. */
export function textOf(result: ToolResult): string {
  return result.content.map((c) => c.text).join("");
}
