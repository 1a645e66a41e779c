/**
 * The vtcode.toml keys toold reads: one TypeBox schema per key gives the type, the default, the
 * validator and the docs line. Sections not listed here are VT Code's own and are ignored.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const Policy = Type.Union([Type.Literal("allow"), Type.Literal("prompt"), Type.Literal("deny")]);
export type Policy = Static<typeof Policy>;

const StringList = Type.Array(Type.String());
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** One config key: its schema, default, and the phrase used in error messages. */
export interface KeySpec<S extends TSchema = TSchema> {
  readonly schema: S;
  readonly default: Static<S>;
  /** Completes "must be …" in an error message. */
  readonly expect: string;
  readonly doc: string;
}

function key<S extends TSchema>(schema: S, def: Static<S>, expect: string, doc: string): KeySpec<S> {
  return { schema, default: def, expect, doc };
}

/** "one of "a", "b", "c"": how every enum error lists the allowed values. */
export function oneOf(values: readonly string[]): string {
  return `one of ${values.map((v) => JSON.stringify(v)).join(", ")}`;
}

const POLICIES = ["allow", "prompt", "deny"] as const;

/**
 * Built-in `[tools.policies]` entries, by canonical tool name. A user's entry for the same tool
 * (under its name or an alias, in any case) replaces it; `default_policy` covers the rest.
 */
export const BUILTIN_POLICIES: Readonly<Record<string, Policy>> = {
  delete_file: "prompt",
  run_terminal_cmd: "prompt",
  exec_command: "prompt",
  // Writing to a session someone already approved starting.
  write_stdin: "allow",
};

/** Section path (dotted, as in the TOML header) → key → spec. Order is the docs' order. */
export const CONFIG_SECTIONS = {
  "optimization.tool_registry": {
    use_optimized_registry: key(
      Type.Boolean(),
      true,
      "true or false",
      "Keep built tool instances in the hot LRU cache instead of building one per call.",
    ),
    hot_cache_size: key(
      Type.Integer({ minimum: 1, maximum: 4096 }),
      16,
      "an integer from 1 to 4096",
      "Capacity of the hot tool-instance cache. Changes apply at once on reload; the hottest entries stay.",
    ),
  },
  "optimization.memory_pool": {
    enabled: key(
      Type.Boolean(),
      true,
      "true or false",
      "Reuse size-classed Buffers on the paths that allocate per call (file reads, search).",
    ),
    max_string_pool_size: key(
      Type.Integer({ minimum: 0, maximum: 4096 }),
      64,
      "an integer from 0 to 4096",
      "Buffers kept per size class. 0 keeps none (every buffer is dropped on return).",
    ),
  },
  tools: {
    default_policy: key(
      Policy,
      "allow",
      oneOf(POLICIES),
      "Policy for tools without an entry in [tools.policies] (built-in or yours).",
    ),
    policies: key(
      Type.Record(Type.String(), Policy),
      { ...BUILTIN_POLICIES },
      `a table of tool name = ${oneOf(POLICIES)}`,
      "Per-tool policy. Keys are tool names or aliases in any case (`Run_PTY_Cmd` is `run_terminal_cmd`); two keys for one tool that disagree are an error; a key that names no tool is a warning. Your entries replace the built-in ones for the same tool.",
    ),
    protected_paths: key(
      StringList,
      ["**/vtcode.toml", ".git/**"],
      "an array of glob strings",
      "Workspace-relative globs that write tools refuse to touch.",
    ),
    max_copy_bytes: key(
      Type.Integer({ minimum: 0 }),
      1024 * 1024 * 1024,
      "an integer >= 0 (bytes)",
      "copy_file: the most bytes one copy may write (a file, or all files of a folder); a larger copy is refused before anything is written. 0 refuses every copy.",
    ),
  },
  commands: {
    allow_list: key(
      StringList,
      [],
      "an array of strings",
      "Programs allowed (basenames), for the tools that run commands (run_terminal_cmd, …). With allow rules, every command in a line must match one (this list, an allow glob or an allow regex); with no allow rule of any kind, all run.",
    ),
    deny_list: key(
      StringList,
      [],
      "an array of strings",
      'Programs refused wherever they appear in the line: in substitutions, functions, through wrappers (sudo, env, timeout, xargs, …) and `sh -c`/`eval` scripts. Deny wins over allow. A command whose program cannot be known statically (`$x`, `eval "$x"`) is asked about (prompt) while any deny rule is set.',
    ),
    allow_glob: key(
      StringList,
      [],
      "an array of glob strings",
      "Globs that allow a command: each simple command of the line must match one (or be allowed by allow_list or allow_regex); `*` spans spaces and `/`.",
    ),
    deny_glob: key(
      StringList,
      [],
      "an array of glob strings",
      "Globs that refuse the line when they match it whole or any simple command in it (unwrapped: `sudo git push -f` is seen as `git push -f` too).",
    ),
    allow_regex: key(
      StringList,
      [],
      "an array of regex strings",
      "Regexes (RE2 syntax, checked at load) that allow a command: each simple command of the line must match one (or be allowed otherwise).",
    ),
    deny_regex: key(
      StringList,
      [],
      "an array of regex strings",
      "Regexes (RE2 syntax, checked at load) that refuse the line when they match it or any simple command in it. Not a security boundary: see docs/security.md.",
    ),
  },
  cache: {
    max_bytes: key(
      Type.Integer({ minimum: 0 }),
      512 * 1024 * 1024,
      "an integer >= 0 (bytes)",
      "Upper bound of the file content cache in bytes. 0 disables it.",
    ),
    watch: key(
      Type.Boolean(),
      true,
      "true or false",
      "Keep an in-memory index of the workspace tree, kept current by file watches (one inotify watch per folder), so list_files and grep_file do not walk the disk. Off: they walk it on every call.",
    ),
  },
  exec: {
    max_sessions: key(
      Type.Integer({ minimum: 1, maximum: 1024 }),
      32,
      "an integer from 1 to 1024",
      "exec_command sessions held at once: running ones, and exited ones whose output is not read yet. Past it exec_command is refused until one ends.",
    ),
    session_idle_timeout_secs: key(
      Type.Integer({ minimum: 0 }),
      3600,
      "an integer >= 0 (seconds; 0 = never)",
      "A session no call has used for this long is ended: a running command is killed with everything it started, an exited one's unread output is dropped. 0 = never.",
    ),
  },
  journal: {
    enabled: key(
      Type.Boolean(),
      true,
      "true or false",
      "Record every change made through toold's tools (before-images and after-hashes) so `toold undo` can take it back. Kept under $XDG_STATE_HOME/toold (default ~/.local/state/toold), never in the workspace. Shell commands' changes are not recorded.",
    ),
    max_bytes: key(
      Type.Integer({ minimum: 1024 * 1024, maximum: 64 * 1024 * 1024 * 1024 }),
      64 * 1024 * 1024,
      "an integer from 1048576 to 68719476736 (bytes)",
      "Size bound of the workspace's journal on disk. Past it the oldest entries are dropped first (to about three quarters of it); one entry keeps at most a quarter of it.",
    ),
    max_file_bytes: key(
      Type.Integer({ minimum: 0 }),
      8 * 1024 * 1024,
      "an integer >= 0 (bytes)",
      "Files larger than this are not copied into the journal: they are recorded by size, mtime and inode (never read whole), as not undoable.",
    ),
  },
  feed: {
    coalesce_ms: key(
      Type.Integer({ minimum: 0, maximum: 10_000 }),
      50,
      "an integer from 0 to 10000 (milliseconds)",
      "workspace/didChange: changes to the same path within this window are sent once, in one notification.",
    ),
    max_pending_paths: key(
      Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      10_000,
      "an integer from 1 to 1000000",
      'workspace/didChange: more changed paths than this in one window are sent as one "overflow" change (re-read everything).',
    ),
    max_backlog_bytes: key(
      Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 }),
      4 * 1024 * 1024,
      "an integer from 1024 to 1073741824 (bytes)",
      "workspace/didChange: a subscriber with more than this many bytes of notifications unread is dropped (told so in one last notification).",
    ),
  },
  daemon: {
    idle_timeout_secs: key(
      Type.Integer({ minimum: 0 }),
      10800,
      "an integer >= 0 (seconds; 0 = never)",
      "Exit after this long with no connection, no call in flight and no exec session open. 0 = never.",
    ),
    log_level: key(
      Type.Union(LOG_LEVELS.map((l) => Type.Literal(l))),
      "info" as (typeof LOG_LEVELS)[number],
      oneOf(LOG_LEVELS),
      "pino log level.",
    ),
    log_max_bytes: key(
      Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 }),
      10 * 1024 * 1024,
      "an integer from 1024 to 1073741824 (bytes)",
      "Size at which the daemon's log file is rotated to <log>.1 (older files shift up).",
    ),
    log_max_files: key(
      Type.Integer({ minimum: 0, maximum: 100 }),
      3,
      "an integer from 0 to 100",
      "Rotated log files kept besides the live one; 0 keeps none. Logs take at most about (log_max_files + 1) × log_max_bytes.",
    ),
    max_message_bytes: key(
      Type.Integer({ minimum: 1024, maximum: 1024 * 1024 * 1024 }),
      16 * 1024 * 1024,
      "an integer from 1024 to 1073741824 (bytes)",
      "Largest JSON-RPC message accepted; a larger frame is refused before its body is read.",
    ),
    max_connections: key(
      Type.Integer({ minimum: 1, maximum: 65536 }),
      256,
      "an integer from 1 to 65536",
      "Connections served at once; more are refused with an error and closed.",
    ),
    max_in_flight_per_connection: key(
      Type.Integer({ minimum: 1, maximum: 65536 }),
      64,
      "an integer from 1 to 65536",
      "Requests in flight per connection; past it further requests wait unread (the socket pauses once 1 MiB waits) while cancellations and approval answers still pass.",
    ),
    frame_timeout_ms: key(
      Type.Integer({ minimum: 100, maximum: 3_600_000 }),
      30_000,
      "an integer from 100 to 3600000 (milliseconds)",
      "A message that stays incomplete this long (a slow or stuck sender) gets an error and its connection is closed; so is a connection that sends nothing at all for this long.",
    ),
    idle_connection_timeout_ms: key(
      Type.Integer({ minimum: 0, maximum: 86_400_000 }),
      300_000,
      "an integer from 0 to 86400000 (milliseconds; 0 = never)",
      "A connection with no call in flight that has not sent `initialize` (not an editor or agent session) is closed after this long without a message. When max_connections is reached, the longest-idle connection with no call in flight is closed to make room, so silent peers cannot hold every slot.",
    ),
    drain_timeout_secs: key(
      Type.Integer({ minimum: 0, maximum: 3600 }),
      10,
      "an integer from 0 to 3600",
      "On shutdown, how long in-flight calls may run before they are cancelled.",
    ),
  },
} as const satisfies Record<string, Record<string, KeySpec>>;

type Sections = typeof CONFIG_SECTIONS;
type SectionValues<S extends Record<string, KeySpec>> = {
  readonly [K in keyof S]: S[K] extends KeySpec<infer T> ? Readonly<Static<T>> : never;
};

/** The effective, frozen configuration. */
export interface Config {
  readonly optimization: {
    readonly tool_registry: SectionValues<Sections["optimization.tool_registry"]>;
    readonly memory_pool: SectionValues<Sections["optimization.memory_pool"]>;
  };
  readonly tools: SectionValues<Sections["tools"]>;
  readonly commands: SectionValues<Sections["commands"]>;
  readonly cache: SectionValues<Sections["cache"]>;
  readonly exec: SectionValues<Sections["exec"]>;
  readonly journal: SectionValues<Sections["journal"]>;
  readonly feed: SectionValues<Sections["feed"]>;
  readonly daemon: SectionValues<Sections["daemon"]>;
}
