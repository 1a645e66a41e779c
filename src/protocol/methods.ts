/**
 * Every method of the wire contract, declared once: its name and its param/result types.
 * This file has no runtime dependencies so the one-off CLI can import it without loading
 * vscode-jsonrpc; `rpc.ts` wraps the same names into vscode-jsonrpc RequestType constants.
 */

/** A method declaration: the name on the wire plus phantom param/result types. */
export interface MethodDecl<P, R> {
  readonly method: string;
  /** Phantom fields that carry the types; never set at run time. */
  readonly _params?: P;
  readonly _result?: R;
}
export interface NotificationDecl<P> {
  readonly method: string;
  readonly _params?: P;
}

function request<P, R>(method: string): MethodDecl<P, R> {
  return Object.freeze({ method });
}
function notification<P>(method: string): NotificationDecl<P> {
  return Object.freeze({ method });
}

export const PROTOCOL_VERSION = "2026-11-01";

export interface ClientInfo {
  name: string;
  version?: string;
}
export interface ClientCapabilities {
  /** The client answers `client/approve` requests for tools under a `prompt` policy. */
  approvals?: boolean;
}
export interface InitializeParams {
  clientInfo?: ClientInfo;
  capabilities?: ClientCapabilities;
}
export interface InitializeResult {
  serverInfo: { name: string; version: string };
  protocolVersion: string;
  workspace: string;
  capabilities: { tools: { listChanged: false }; progress: true; cancellation: true; approvals: boolean };
}

export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}
export interface ToolDescriptor {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  annotations?: ToolAnnotations;
  /** Other names the daemon accepts for this tool (VT Code's aliases). */
  aliases?: string[];
}
export interface ToolsListResult {
  tools: ToolDescriptor[];
}

export type ProgressToken = string | number;
export interface ToolsCallParams {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: { progressToken?: ProgressToken };
}
export interface TextContent {
  type: "text";
  text: string;
}
export interface ToolResult {
  content: TextContent[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

export interface LatencySummary {
  calls: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Sum of all call durations, for rates and means (Prometheus `_sum`). */
  sumMs: number;
}
/** The hot cache of built tool instances (src/tools/registry.ts). */
export interface HotCacheStats {
  enabled: boolean;
  size: number;
  capacity: number;
  hits: number;
  misses: number;
  evictions: number;
  /** Instances built since start (cache misses plus every call when the cache is off). */
  builds: number;
}
/** The buffer pool (src/support/memory-pool.ts). */
export interface MemoryPoolStats {
  enabled: boolean;
  /** Buffers idle in the pool now. */
  pooled: number;
  pooledBytes: number;
  /** Buffers the pool may keep idle (per class × classes). */
  capacity: number;
  /** Acquires served from the pool. */
  hits: number;
  /** Acquires that had to allocate. */
  misses: number;
  /** Releases kept for reuse. */
  returned: number;
  /** Releases let go (class full, oversized, byte bound, or pool disabled). */
  dropped: number;
  /** Buffers acquired and not yet released. */
  leased: number;
}
/** The file content cache (src/cache/file-cache.ts). */
export interface FileCacheStats {
  enabled: boolean;
  entries: number;
  bytes: number;
  maxBytes: number;
  /** Largest single file kept; bigger files are read through the pool each time. */
  maxFileBytes: number;
  /** Of `bytes`, what search summaries take. */
  memoBytes: number;
  /**
   * True while summaries are being built in the background, or files a cold search read are
   * still going into the cache with theirs: searches are fully warm once it is false.
   */
  summarizing: boolean;
  hits: number;
  misses: number;
  evictions: number;
  invalidations: number;
}
/** The watched workspace tree (src/index/workspace-index.ts). */
export interface IndexStats {
  ready: boolean;
  healthy: boolean;
  dirs: number;
  files: number;
  watches: number;
  /** Watcher events applied since start. */
  events: number;
  syncs: number;
  rebuilds: number;
  /** Milliseconds the initial scan took. */
  buildMs: number;
  /** Folders the ignore files exclude: neither held nor watched. */
  unindexed: number;
}
/** exec_command sessions: open now, and counts since the daemon started. */
export interface ExecSessionStats {
  /** Held now: running, or exited with output not read yet. */
  open: number;
  running: number;
  started: number;
  /** Ended by `exec/kill` (`toold sessions kill`) while running. */
  killed: number;
  /** Ended by `[exec] session_idle_timeout_secs`. */
  timedOut: number;
  /** How commands are contained: a PID namespace per command, or the /proc sweep. */
  containment: string;
}
export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  /** Live libuv handles and requests: a leak shows up as growth. */
  activeResources?: number;
  /** Search worker threads alive now (they end 2 s after their last search or cache fill). */
  searchThreads?: number;
}
/**
 * `daemon/stats`: declared here once; each component returns its section's type and the
 * dispatcher assembles them without a cast.
 */
export interface StatsResult {
  uptimeMs: number;
  connections: { active: number; total: number };
  requests: { total: number; errors: number; inFlight: number };
  tools: Record<string, LatencySummary>;
  hotCache: HotCacheStats;
  memoryPool: MemoryPoolStats;
  fileCache: FileCacheStats;
  /** `{ enabled: false }` while `[cache] watch` is off. */
  index: IndexStats | { enabled: false };
  /** Absent in a daemon without exec sessions. */
  sessions?: ExecSessionStats;
  process: ProcessStats;
  /** Absent on a daemon without a journal. */
  journal?: JournalStats;
  /** The workspace/didChange feed. */
  feed?: FeedStats;
}
export interface JournalStats {
  enabled: boolean;
  entries: number;
  bytes: number;
  maxBytes: number;
  /** Changes recorded since start (calls that changed nothing are dropped, not counted). */
  recorded: number;
  /** Journaled calls that changed nothing (their entry was dropped). */
  dropped: number;
  undone: number;
}
export interface FeedStats {
  subscribers: number;
  /** Notifications sent since start. */
  sent: number;
  /** Subscribers dropped for reading too slowly. */
  dropped: number;
  /** Bytes of notifications not yet written to sockets, all subscribers. */
  backlogBytes: number;
}
export interface StatusResult {
  pid: number;
  version: string;
  uptimeMs: number;
  workspace: string;
  socket: string;
  connections: number;
  logFile?: string;
  /** Present when the config in force had warnings (unknown keys, near-misses). */
  configWarnings?: ConfigWarnings;
}
/** vtcode.toml warnings: the file once, then one line each (`line 2: unknown key … did you mean …`). */
export interface ConfigWarnings {
  file: string;
  warnings: string[];
}
export interface ReloadResult {
  ok: true;
  /** Present when the new config has warnings; it is in force all the same. */
  configWarnings?: ConfigWarnings;
}
export interface OkResult {
  ok: true;
}
export interface ApproveParams {
  tool: string;
  arguments: Record<string, unknown>;
  reason: string;
  /**
   * The call as a human should see it before approving: the command, cwd and env (or the paths)
   * in full first, then the other arguments, with control and bidi characters escaped. Show this
   * rather than rendering `arguments` yourself.
   */
  display?: string;
}
export interface ApproveResult {
  approved: boolean;
}
export interface ProgressParams {
  token: ProgressToken;
  value: unknown;
}
export interface CancelParams {
  id: number | string;
}

/** One exec session (exec_command) as the daemon holds it. */
export interface ExecSessionInfo {
  session_id: number;
  /** The command as given: the shell line, or the argv joined. */
  command: string;
  /** Working folder, relative to the workspace root. */
  cwd: string;
  /** Pid of the process the daemon spawned for it (in a PID namespace, its supervisor). */
  pid: number;
  tty: boolean;
  started_at: string;
  status: "running" | "exited";
  exit_code: number | null;
  /** Milliseconds since a call last used it (0 while one does). */
  idle_ms: number;
  /** Output bytes waiting to be read (write_stdin reads them). */
  unread_bytes: number;
  /** Output bytes the command has printed in all. */
  output_bytes: number;
}
export interface ExecSessionsResult {
  sessions: ExecSessionInfo[];
}
export interface ExecKillParams {
  session_id: number;
}
export interface ExecKillResult {
  /** The session as it was when it ended. */
  session: ExecSessionInfo;
}
/** One path of a journal entry, as `journal/list` shows it. */
export type JournalPathKind = "file" | "dir" | "symlink" | "missing";
export interface JournalPathSummary {
  /** Workspace-relative; a folder recorded with everything in it shows its item count. */
  path: string;
  before: JournalPathKind;
  /** "unknown" when the daemon stopped before the change finished (the entry is interrupted). */
  after: JournalPathKind | "unknown";
  /** Entries below a folder recorded with its contents (recursive delete, move, created folders). */
  items?: number;
  undoable: boolean;
  /** Why the path cannot be undone (too large, not a regular file). */
  reason?: string;
}
export interface JournalEntrySummary {
  id: number;
  /** ISO 8601. */
  time: string;
  /** The tool that made the change, or "undo". */
  tool: string;
  /** `clientInfo.name` of the connection that made it (null when it sent no `initialize`). */
  client: string | null;
  /** "interrupted": the daemon stopped between recording the before-images and finishing the change. */
  status: "complete" | "interrupted";
  /** For an undo: the entry it undid. */
  undoes?: number;
  paths: JournalPathSummary[];
  /** Bytes the entry takes in the journal. */
  bytes: number;
}
export interface JournalListParams {
  /** At most this many entries, newest first. Default all. */
  limit?: number;
}
export interface JournalListResult {
  enabled: boolean;
  /** Newest first. */
  entries: JournalEntrySummary[];
  /** Entries in the journal (before `limit`). */
  total: number;
  bytes: number;
  maxBytes: number;
  /** Why the journal is off or unavailable, when it is. */
  reason?: string;
}
export interface JournalUndoParams {
  /** The entry to undo; default the newest. */
  id?: number;
  /** Restore even when a path changed since the entry (its current content is then journaled by the undo). */
  force?: boolean;
}
export interface JournalUndoResult {
  /** The entry undone. */
  undone: number;
  /** The undo's own journal entry (undo it to redo); absent when nothing had to change. */
  changeId?: number;
  /** The paths restored, workspace-relative. */
  paths: string[];
}

export type WorkspaceChangeKind = "created" | "changed" | "deleted" | "overflow";
export interface WorkspaceChange {
  /** Workspace-relative, `/`-separated; "." with kind "overflow" (too many changes: re-read everything). */
  path: string;
  kind: WorkspaceChangeKind;
  /** The journal entry when the change was made through toold. */
  changeId?: number;
}
export interface WorkspaceDidChangeParams {
  changes: WorkspaceChange[];
  /** Set on the last notification of a subscription the daemon ended (the client read too slowly). */
  dropped?: string;
}
export interface WorkspaceSubscribeResult {
  subscribed: true;
  /** False when `[cache] watch` is off: only changes made through toold are reported. */
  watching: boolean;
}

export const Initialize = request<InitializeParams, InitializeResult>("initialize");
export const ToolsList = request<Record<string, never>, ToolsListResult>("tools/list");
export const ToolsCall = request<ToolsCallParams, ToolResult>("tools/call");
export const DaemonStats = request<Record<string, never>, StatsResult>("daemon/stats");
export const DaemonStatus = request<Record<string, never>, StatusResult>("daemon/status");
export const ConfigGet = request<Record<string, never>, Record<string, unknown>>("config/get");
export const ConfigReload = request<Record<string, never>, ReloadResult>("config/reload");
export const DaemonShutdown = request<Record<string, never>, OkResult>("daemon/shutdown");
export const ExecSessions = request<Record<string, never>, ExecSessionsResult>("exec/sessions");
export const ExecKill = request<ExecKillParams, ExecKillResult>("exec/kill");
/** Daemon → client: ask the calling client to approve a tool call under a `prompt` policy. */
export const ClientApprove = request<ApproveParams, ApproveResult>("client/approve");
export const Progress = notification<ProgressParams>("$/progress");
export const CancelRequest = notification<CancelParams>("$/cancelRequest");
export const JournalList = request<JournalListParams, JournalListResult>("journal/list");
export const JournalUndo = request<JournalUndoParams, JournalUndoResult>("journal/undo");
/** Sends this connection `workspace/didChange` notifications until it closes or unsubscribes. */
export const WorkspaceSubscribe = request<Record<string, never>, WorkspaceSubscribeResult>(
  "workspace/subscribe",
);
export const WorkspaceUnsubscribe = request<Record<string, never>, OkResult>("workspace/unsubscribe");
export const WorkspaceDidChange = notification<WorkspaceDidChangeParams>("workspace/didChange");
