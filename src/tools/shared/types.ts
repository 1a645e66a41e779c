/**
 * What a tool is: one file per tool exports a `ToolDefinition` made with `defineTool`.
 * Tools see the world only through `ToolContext`; they never import the daemon.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import type { Logger } from "pino";
import type { ProgressToken, ToolAnnotations, ToolResult } from "../../protocol/methods.js";
import type { Config } from "../../config/schema.js";
import type { Workspace } from "../../workspace/workspace.js";
import type { BufferPool } from "../../support/memory-pool.js";
import type { FileCache } from "../../cache/file-cache.js";
import type { WorkspaceIndex } from "../../index/workspace-index.js";
import type { SessionManager } from "../../exec/manager.js";
import type { SearchTrees } from "../../index/indexed-source.js";
import type { ColdSearchPool } from "../../search/cold-search.js";
import type { ChangeTarget } from "../../journal/types.js";

export type { ChangeTarget, ToolResult };

/** Everything a handler may use. One context per call. */
export interface ToolContext {
  /** Aborted when the caller cancels, disconnects, or the daemon stops waiting at shutdown. */
  readonly signal: AbortSignal;
  readonly workspace: Workspace;
  readonly pool: BufferPool;
  readonly config: Config;
  readonly log: Logger;
  /** The shared file content cache (src/cache); with caching off it still reads, through the pool. */
  readonly files: FileCache;
  /** The warm, watched workspace tree (src/index); absent when `[cache] watch` is off. */
  readonly index?: WorkspaceIndex;
  /** The daemon's exec sessions (exec_command, write_stdin); they outlive the call and its client. */
  readonly sessions?: SessionManager;
  /**
   * Where grep_file and list_files get their tree (the index, or the disk while it builds or
   * cannot serve a walk). Built in the composition root; when absent, `searchTrees(ctx)` in
   * src/tools/shared/trees.ts builds the same from `files` and `index`.
   */
  readonly trees?: SearchTrees;
  /**
   * The cold search's worker threads (the daemon starts them): a whole-tree search the index
   * cannot serve yet runs on them (src/search/cold-search.ts).
   */
  readonly coldSearch?: ColdSearchPool;
  /** Present when the caller passed `_meta.progressToken`. */
  readonly progress?: (value: unknown) => void;
  readonly progressToken?: ProgressToken;
}

export interface ToolDefinition<S extends TSchema = TSchema, State = unknown> {
  /** Canonical VT Code name. */
  readonly name: string;
  /** Other tool names accepted for this tool, matched case-insensitively. */
  readonly aliases?: readonly string[];
  readonly description: string;
  readonly inputSchema: S;
  readonly annotations: ToolAnnotations;
  /** A typical call's arguments: published in the schema's `examples` and shown in argument errors. */
  readonly example?: Record<string, unknown>;
  /** Argument names VT Code accepts for another argument: `{ file_path: "path" }`. */
  readonly argumentAliases?: Readonly<Record<string, string>>;
  /**
   * For tools that run a program: the command a call would run, so the policy layer applies the
   * `[commands]` rules before the tool's own policy (the dispatcher names no tool).
   */
  readonly commandOf?: (args: Static<S>) => string | readonly string[];
  /**
   * For tools that change files: the paths a call may change, so the journal records their
   * before-images before the handler runs and the call can be undone (the dispatcher names no
   * tool). Return [] when the arguments name nothing (the handler then reports the error).
   */
  readonly changes?: (
    args: Static<S>,
    ctx: ToolContext,
  ) => Promise<readonly ChangeTarget[]> | readonly ChangeTarget[];
  /** Builds the per-instance warm state; the registry keeps it while the instance is hot. */
  readonly createState?: () => State;
  readonly disposeState?: (state: State) => void;
  readonly handler: (args: Static<S>, ctx: ToolContext, state: State) => Promise<ToolResult>;
}

/** Identity helper that lets TypeScript infer the argument type from the schema. */
export function defineTool<S extends TSchema, State = undefined>(
  definition: ToolDefinition<S, State>,
): ToolDefinition<S, State> {
  return definition;
}

/**
 * A tool's own failure (a missing file, a patch that does not apply): the registry turns it into
 * a result with `isError: true` that the agent reads. It never crosses the wire as a JSON-RPC
 * error; those are `ProtocolError`s (src/protocol/errors.ts: a bad call, not a failed tool).
 */
export class ToolFailure extends Error {
  constructor(
    message: string,
    readonly structured?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "ToolFailure";
  }
}

/**
 * Arguments that fit the schema but not each other (path and reads both given, head with tail):
 * the registry answers it as it answers a schema mismatch (-32602 on the socket, exit 2 in the
 * CLI, an `isError` result naming the argument over MCP). Thrown before anything is done.
 */
export class ArgumentError extends Error {
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super(message);
    this.name = "ArgumentError";
  }
}

export function textResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return structuredContent === undefined
    ? { content: [{ type: "text", text }] }
    : { content: [{ type: "text", text }], structuredContent };
}

export function errorResult(text: string, structuredContent?: Record<string, unknown>): ToolResult {
  return { ...textResult(text, structuredContent), isError: true };
}

/** A definition with its argument and state types erased, as the registry holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyToolDefinition = ToolDefinition<any, any>;
