/**
 * The daemon's composition root and whole lifecycle: config → logger → socket folder → lock →
 * listen → serve → one idempotent `shutdown()` (drain, close, remove socket and state file).
 * `entry.ts` runs it as a process; tests may construct a `Daemon` directly.
 */
import { chmodSync, lstatSync, mkdirSync, statSync, unlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { Logger, LevelWithSilent } from "pino";
import { ConfigError, loadConfig, type LoadedConfig } from "../config/load.js";
import type { Config } from "../config/schema.js";
import type { ConfigWarnings } from "../protocol/methods.js";
import { Dispatcher, type DaemonControl } from "../dispatch/dispatcher.js";
import { Stats } from "../dispatch/stats.js";
import { BUILTIN_TOOLS } from "../tools/index.js";
import { BufferPool } from "../support/memory-pool.js";
import { FileCache } from "../cache/file-cache.js";
import { WorkspaceIndex } from "../index/workspace-index.js";
import { ColdSearchPool } from "../search/cold-search.js";
import { ToolRegistry } from "../tools/registry.js";
import { SessionManager } from "../exec/manager.js";
import { Journal, journalDirFor } from "../journal/journal.js";
import { ChangeFeed } from "../journal/feed.js";
import { VERSION } from "../version.js";
import {
  locateWorkspace,
  runtimeFiles,
  socketPathFor,
  workspaceId,
  type RuntimeFiles,
} from "../workspace/locate.js";
import { Workspace } from "../workspace/workspace.js";
import { createRootLogger, flushLogsSync, setLogRotation } from "./logger.js";
import { DaemonServer } from "./server.js";
import { QuietCollector } from "./quiet-collector.js";
import { ensurePrivateDir } from "../workspace/socket-dir.js";
import { sweepTempFiles } from "./temp-sweep.js";
import {
  AlreadyRunningError,
  acquireStateLock,
  processStartTime,
  releaseStateLock,
  updateState,
  type DaemonState,
} from "./state-file.js";
import type { LastRun } from "../workspace/registry.js";

/** Longest the daemon waits for its cold search workers to load before it listens. */
const COLD_WORKERS_WAIT_MS = 500;

/** How often the daemon checks that its socket file is still there ($TOOLD_SOCKET_CHECK_MS: tests). */
const SOCKET_WATCH_INTERVAL_MS =
  Number(process.env.TOOLD_SOCKET_CHECK_MS) > 0 ? Number(process.env.TOOLD_SOCKET_CHECK_MS) : 15_000;

export interface DaemonOptions {
  workspace: string;
  socket: string;
  /** Log to stderr instead of the log file in the state folder. */
  foreground: boolean;
  /**
   * The toold state folder holding the journal (`--state-dir`); default $TOOLD_STATE_DIR,
   * $XDG_STATE_HOME/toold or ~/.local/state/toold.
   */
  stateDir?: string;
}

/** Messages a detached daemon sends its starter over the IPC channel. */
export type StartupMessage =
  | { type: "ready"; pid: number; socket: string }
  | { type: "already-running"; pid: number; socket: string }
  | { type: "error"; message: string };

export class Daemon {
  private config: Config;
  private readonly files: RuntimeFiles;
  private readonly stats = new Stats();
  private readonly pool: BufferPool;
  private readonly registry: ToolRegistry;
  private readonly fileCache: FileCache;
  /** Worker threads for whole-tree searches the index cannot serve yet (the first ones). */
  private readonly coldSearch: ColdSearchPool;
  /** The watched workspace tree; undefined while `[cache] watch` is off. */
  private index: WorkspaceIndex | undefined;
  private readonly server: DaemonServer;
  /** exec_command sessions: they keep the daemon up while they run, and end with it. */
  private readonly sessions: SessionManager;
  private readonly journal: Journal;
  private readonly feed: ChangeFeed;
  /** Returns a burst's garbage to the system once calls stop (row g). */
  private readonly quietCollector: QuietCollector;
  private state: DaemonState;
  private draining = false;
  private shutdownPromise: Promise<void> | undefined;
  private stopReason: string | undefined;
  private markStopped!: () => void;
  /** Resolves when a shutdown, whatever started it, has finished. */
  readonly stopped = new Promise<void>((resolve) => (this.markStopped = resolve));
  private idleTimer: NodeJS.Timeout | undefined;
  private socketWatch: NodeJS.Timeout | undefined;
  private socketIno: number | undefined;
  private readonly log: Logger;
  private readonly startedAtMs = Date.now();

  constructor(
    private readonly opts: DaemonOptions,
    config: Config,
    private readonly rootLog: Logger,
    /** The warnings of the config in force, told to clients by `status` (printed by `toold start`). */
    private configWarnings?: ConfigWarnings,
    /** The cold search's workers, when entry.ts started them before loading the daemon. */
    coldSearch?: ColdSearchPool,
  ) {
    this.config = config;
    this.log = rootLog.child({ module: "daemon" });
    this.files = runtimeFiles(opts.workspace, opts.socket, daemonEnv(opts));
    this.pool = new BufferPool({
      enabled: config.optimization.memory_pool.enabled,
      maxPerClass: config.optimization.memory_pool.max_string_pool_size,
    });
    this.registry = new ToolRegistry(
      BUILTIN_TOOLS,
      config.optimization.tool_registry,
      rootLog.child({ module: "registry" }),
    );
    const control: DaemonControl = {
      version: VERSION,
      socketPath: opts.socket,
      pid: process.pid,
      ...(opts.foreground ? {} : { logFile: this.files.log }),
      memoryUsage: () => process.memoryUsage(),
      activeResources: () => process.getActiveResourcesInfo().length,
      config: () => this.config,
      reloadConfig: () => this.reloadConfig(),
      configWarnings: () => this.configWarnings,
      shutdown: (reason) => void this.shutdown(reason),
      isDraining: () => this.draining,
    };
    const workspace = new Workspace(opts.workspace);
    this.feed = new ChangeFeed(
      () => ({
        coalesceMs: this.config.feed.coalesce_ms,
        maxPendingPaths: this.config.feed.max_pending_paths,
        maxBacklogBytes: this.config.feed.max_backlog_bytes,
      }),
      // A watcher that lost its watches (inotify limits) misses changes: then the journal reports.
      () => this.index?.watching === true,
    );
    this.journal = new Journal({
      workspace,
      dir: journalDirFor(opts.workspace, daemonEnv(opts)),
      config: () => this.config,
      log: rootLog.child({ module: "journal" }),
      listener: this.feed,
    });
    this.fileCache = new FileCache({ maxBytes: config.cache.max_bytes });
    this.coldSearch = coldSearch ?? new ColdSearchPool({ threads: os.availableParallelism() });
    this.coldSearch.useLog(rootLog.child({ module: "cold-search" }));
    if (config.cache.watch) this.index = this.newIndex();
    this.sessions = new SessionManager({
      limits: () => this.config.exec,
      log: rootLog.child({ module: "exec" }),
      workspaceKey: workspaceId(opts.workspace),
      onChange: () => this.armIdleTimer(),
    });
    this.quietCollector = new QuietCollector({
      busy: () => this.stats.inFlight > 0,
      log: rootLog.child({ module: "gc" }),
    });
    const dispatcher = new Dispatcher({
      registry: this.registry,
      pool: this.pool,
      journal: this.journal,
      feed: this.feed,
      workspace,
      stats: this.stats,
      control,
      log: rootLog.child({ module: "dispatch" }),
      files: this.fileCache,
      index: () => this.index,
      sessions: this.sessions,
      coldSearch: this.coldSearch,
      afterCall: () => this.quietCollector.noteWork(),
    });
    this.server = new DaemonServer({
      dispatcher,
      pool: this.pool,
      stats: this.stats,
      config: () => this.config,
      log: rootLog.child({ module: "server" }),
      onActivity: () => this.armIdleTimer(),
    });
    this.state = {
      pid: process.pid,
      pidStartTime: processStartTime(process.pid),
      version: VERSION,
      workspace: opts.workspace,
      socket: opts.socket,
      logFile: opts.foreground ? null : this.files.log,
      startedAt: new Date().toISOString(),
      phase: "starting",
    };
  }

  private newIndex(): WorkspaceIndex {
    return new WorkspaceIndex({
      root: this.opts.workspace,
      cache: this.fileCache,
      log: this.rootLog.child({ module: "index" }),
      // The sync cookies' folder goes in the daemon's private runtime folder, out of tools' reach.
      privateDir: this.files.socketDir,
      onChange: (changes) => this.feed.publish(changes),
      // The first scan gives way to a first search running on the cold search's threads.
      yieldTo: () => this.coldSearch.idle(),
    });
  }

  /** Takes the lock, binds the socket, and starts serving. */
  async start(): Promise<void> {
    ensurePrivateDir(this.files.socketDir, os.userInfo().uid);
    ensurePrivateDir(this.files.registryDir, os.userInfo().uid);
    await acquireStateLock(this.files.state, this.files.last, this.state);
    // Before listening: a first search must not wait for its workers to load (tens of ms; they
    // load beside the daemon's own modules when entry.ts started them).
    this.coldSearch.start();
    await this.coldSearch.ready(COLD_WORKERS_WAIT_MS);
    try {
      this.removeStaleSocket();
      await this.server.listen(this.opts.socket);
      chmodSync(this.opts.socket, 0o600);
      this.socketIno = statSync(this.opts.socket).ino;
    } catch (err) {
      releaseStateLock(this.files.state, process.pid);
      await this.coldSearch.dispose();
      throw err;
    }
    this.state = { ...this.state, phase: "ready" };
    updateState(this.files.state, this.state);
    this.armIdleTimer();
    this.socketWatch = setInterval(() => this.checkSocket(), SOCKET_WATCH_INTERVAL_MS);
    this.socketWatch.unref();
    this.sweepLeftovers();
    this.startExec();
    // In the background: a call that changes files waits for it.
    void this.journal.open();
    // In the background: calls that need the tree before it is built wait for it.
    void this.index?.start();
    this.log.info(
      {
        workspace: this.opts.workspace,
        socket: this.opts.socket,
        version: VERSION,
        tools: this.registry.list().length,
      },
      "daemon ready",
    );
  }

  /** In the background: temp files of writes a killed daemon never finished (see temp-sweep.ts). */
  private sweepLeftovers(): void {
    const log = this.rootLog.child({ module: "temp-sweep" });
    sweepTempFiles(this.opts.workspace, {
      startedAtMs: this.startedAtMs,
      log,
      // A first search gets the cores first.
      yieldTo: () => this.coldSearch.idle(),
    })
      .then((r) => {
        if (r.removed.length > 0 || r.truncated) {
          log.info({ removed: r.removed.length, truncated: r.truncated }, "removed leftover temp files");
        } else {
          log.debug({ visited: r.visited }, "no leftover temp files");
        }
      })
      .catch((err: Error) => log.warn({ err: err.message }, "temp-file sweep failed"));
  }

  /** In the background: probe process containment, and end what a killed daemon's sessions left. */
  private startExec(): void {
    const log = this.rootLog.child({ module: "exec" });
    try {
      this.sessions.sweepOrphans();
    } catch (err) {
      log.warn({ err: (err as Error).message }, "orphan sweep failed");
    }
    this.sessions
      .warmUp()
      .then((c) => log.info({ containment: c.mode, how: c.summary }, "exec containment"))
      .catch((err: Error) => log.warn({ err: err.message }, "containment probe failed"));
  }

  /** We hold the lock, so a socket file left at our path belongs to a dead daemon. */
  private removeStaleSocket(): void {
    try {
      const st = lstatSync(this.opts.socket);
      if (!st.isSocket()) {
        throw new Error(`${this.opts.socket} exists and is not a socket; refusing to replace it`);
      }
      unlinkSync(this.opts.socket);
      this.log.info({ socket: this.opts.socket }, "removed stale socket");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }

  /** The socket file was removed or replaced under us: nobody can reach us, so exit cleanly. */
  private checkSocket(): void {
    let ino: number | undefined;
    try {
      ino = statSync(this.opts.socket).ino;
    } catch {
      ino = undefined;
    }
    if (ino !== this.socketIno) {
      this.log.warn({ socket: this.opts.socket }, "socket file removed or replaced; shutting down");
      this.socketIno = undefined;
      void this.shutdown("socket file removed");
    }
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const secs = this.config.daemon.idle_timeout_secs;
    if (secs === 0 || this.draining || this.server.connectionCount > 0 || this.sessions.open > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.server.connectionCount === 0 && this.stats.inFlight === 0 && this.sessions.open === 0) {
        void this.shutdown(`idle for ${secs} s`);
      }
    }, secs * 1000);
    this.idleTimer.unref();
  }

  async reloadConfig(): Promise<ConfigWarnings | undefined> {
    let loaded;
    try {
      loaded = await loadConfig(this.opts.workspace);
    } catch (err) {
      this.log.error({ err: (err as Error).message }, "config reload failed; old config kept");
      throw err;
    }
    this.configWarnings = warningsOf(loaded);
    for (const warning of loaded.warnings) this.log.warn({ file: loaded.file }, warning);
    this.config = loaded.config;
    this.registry.configureOptimizations(loaded.config.optimization.tool_registry);
    this.pool.configure({
      enabled: loaded.config.optimization.memory_pool.enabled,
      maxPerClass: loaded.config.optimization.memory_pool.max_string_pool_size,
    });
    this.fileCache.configure(loaded.config.cache.max_bytes);
    this.sessions.reconfigure();
    if (loaded.config.cache.watch && !this.index) {
      this.index = this.newIndex();
      void this.index.start();
    } else if (!loaded.config.cache.watch && this.index) {
      this.index.dispose();
      this.index = undefined;
    }
    this.rootLog.level = loaded.config.daemon.log_level;
    setLogRotation({
      maxBytes: loaded.config.daemon.log_max_bytes,
      maxFiles: loaded.config.daemon.log_max_files,
    });
    this.armIdleTimer();
    this.log.info({ file: loaded.file ?? null }, "config reloaded");
    return this.configWarnings;
  }

  /** Idempotent: refuse new calls, let in-flight calls finish (bounded), then close and clean up. */
  shutdown(reason: string): Promise<void> {
    this.stopReason ??= reason;
    this.shutdownPromise ??= (async () => {
      this.draining = true;
      this.log.info({ reason, inFlight: this.stats.inFlight }, "shutting down");
      if (this.idleTimer) clearTimeout(this.idleTimer);
      if (this.socketWatch) clearInterval(this.socketWatch);
      const stopped = this.server.stopAccepting();
      const deadline = Date.now() + this.config.daemon.drain_timeout_secs * 1000;
      while (this.stats.inFlight > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      if (this.stats.inFlight > 0)
        this.log.warn({ inFlight: this.stats.inFlight }, "drain timeout; cancelling calls");
      // Give the last responses a moment to flush before the sockets go.
      await new Promise((r) => setTimeout(r, 10));
      this.server.closeAll();
      // Every session ends with the daemon, and every process it started with it.
      await this.sessions.shutdown();
      await stopped;
      if (this.socketIno !== undefined) {
        try {
          if (statSync(this.opts.socket).ino === this.socketIno) unlinkSync(this.opts.socket);
        } catch {
          /* already gone */
        }
      }
      const ended: LastRun = {
        ...this.state,
        ended: "stopped",
        endedAt: new Date().toISOString(),
        reason: this.stopReason ?? reason,
      };
      releaseStateLock(this.files.state, process.pid, this.files.last, ended);
      this.registry.dispose();
      this.feed.dispose();
      this.quietCollector.dispose();
      await this.journal.close();
      await this.coldSearch.dispose();
      this.index?.dispose();
      this.fileCache.clear();
      this.log.info("stopped");
      this.markStopped();
    })();
    return this.shutdownPromise;
  }
}

/** The environment the daemon's paths follow: `--state-dir` stands for $TOOLD_STATE_DIR. */
function daemonEnv(opts: DaemonOptions): NodeJS.ProcessEnv {
  return opts.stateDir ? { ...process.env, TOOLD_STATE_DIR: opts.stateDir } : process.env;
}

function parseDaemonArgs(argv: string[]): DaemonOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      workspace: { type: "string" },
      socket: { type: "string" },
      foreground: { type: "boolean", default: false },
      "state-dir": { type: "string" },
    },
    strict: true,
  });
  const workspace = locateWorkspace(values.workspace, process.cwd());
  const socket = socketPathFor(workspace, values.socket, process.env);
  return {
    workspace,
    socket,
    foreground: values.foreground ?? false,
    ...(values["state-dir"] ? { stateDir: values["state-dir"] } : {}),
  };
}

function tellStarter(message: StartupMessage): void {
  if (process.send) {
    process.send(message);
    process.disconnect();
  }
}

function warningsOf(loaded: LoadedConfig): ConfigWarnings | undefined {
  return loaded.file !== undefined && loaded.warnings.length > 0
    ? { file: loaded.file, warnings: [...loaded.warnings] }
    : undefined;
}

/** Process entry: start, wire signals, exit when stopped. */
export async function main(argv: string[], started: { coldSearch?: ColdSearchPool } = {}): Promise<void> {
  let opts: DaemonOptions;
  let config: Config;
  let log: Logger;
  let configWarnings: ConfigWarnings | undefined;
  try {
    opts = parseDaemonArgs(argv);
    const loaded = await loadConfig(opts.workspace);
    config = loaded.config;
    const files = runtimeFiles(opts.workspace, opts.socket, daemonEnv(opts));
    ensurePrivateDir(files.socketDir, os.userInfo().uid);
    // Logs may name files and commands: the log folder is the user's alone.
    if (!opts.foreground) mkdirSync(path.dirname(files.log), { recursive: true, mode: 0o700 });
    log = createRootLogger({
      level: config.daemon.log_level as LevelWithSilent,
      file: opts.foreground ? undefined : files.log,
      rotation: { maxBytes: config.daemon.log_max_bytes, maxFiles: config.daemon.log_max_files },
    });
    for (const warning of loaded.warnings) log.warn({ file: loaded.file }, warning);
    configWarnings = warningsOf(loaded);
  } catch (err) {
    const message = err instanceof ConfigError ? err.message : `toold daemon: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    tellStarter({ type: "error", message });
    process.exitCode = 1;
    return;
  }
  const daemon = new Daemon(opts, config, log, configWarnings, started.coldSearch);
  try {
    await daemon.start();
  } catch (err) {
    if (err instanceof AlreadyRunningError) {
      if (!process.send) {
        // Run by hand (--foreground): one readable line, and a failure exit.
        process.stderr.write(`toold: ${err.message}; stop it first with \`toold stop\`\n`);
        process.exitCode = 1;
        return;
      }
      log.info(
        { owner: err.owner.pid, socket: err.owner.socket },
        "another daemon owns this workspace; exiting",
      );
      tellStarter({ type: "already-running", pid: err.owner.pid, socket: err.owner.socket });
      process.exitCode = 0;
      return;
    }
    const message = `toold daemon could not start: ${(err as Error).message}`;
    log.error({ err }, "start failed");
    process.stderr.write(`${message}\n`);
    tellStarter({ type: "error", message });
    process.exitCode = 1;
    flushLogsSync();
    return;
  }
  tellStarter({ type: "ready", pid: process.pid, socket: opts.socket });

  process.on("SIGTERM", () => void daemon.shutdown("SIGTERM"));
  process.on("SIGINT", () => void daemon.shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    daemon.reloadConfig().catch(() => {
      /* logged; the old config stays */
    });
  });
  let crashed = false;
  process.on("uncaughtException", (err) => {
    // The process is in a state nobody planned for (half-updated caches, a lease never returned):
    // serving on would risk wrong answers. Log it, let the calls in flight finish (bounded by
    // drain_timeout_secs), and exit non-zero; the next call starts a fresh daemon.
    log.fatal({ err }, "uncaught exception; draining and exiting");
    if (crashed) return;
    crashed = true;
    process.exitCode = 1;
    // Should the drain itself hang, leave anyway.
    setTimeout(
      () => {
        flushLogsSync();
        process.exit(1);
      },
      (config.daemon.drain_timeout_secs + 5) * 1000,
    ).unref();
    void daemon.shutdown(`uncaught exception: ${err.message}`);
  });
  // A forgotten promise: logged; the state it leaves is the caller's own, not the process's.
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  await daemon.stopped;
  flushLogsSync();
  process.exit(crashed ? 1 : 0);
}
