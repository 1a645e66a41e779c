/**
 * The daemon's exec sessions: they belong to the workspace, not to a connection, so any client
 * continues one by id, and a client that disconnects mid-call leaves it running. Limits:
 * `[exec] max_sessions` (running ones and exited ones whose output is unread), and
 * `session_idle_timeout_secs` (no call touched it for that long: a running one is killed, an
 * exited one dropped). Stopping the daemon ends every session, and with it every process.
 */
import type { Logger } from "pino";
import type { ExecSessionInfo, ExecSessionStats } from "../protocol/methods.js";
import { containment, MARKER_NAME, newMarker, type Containment } from "./containment.js";
import { environEntries, listPids, signalPid } from "./proc.js";
import { ExecError, ExecSession, type SessionSpec } from "./session.js";

export interface ExecLimits {
  readonly max_sessions: number;
  readonly session_idle_timeout_secs: number;
}

export interface SessionManagerOptions {
  readonly limits: () => ExecLimits;
  readonly log: Logger;
  /** Short id of the workspace: the environment marker names it, for the sweep of a dead daemon's orphans. */
  readonly workspaceKey: string;
  /** Called when the number of open sessions changes (the daemon's idle timer). */
  readonly onChange?: (open: number) => void;
  /** Tests: a containment other than the probed one. */
  readonly containment?: () => Promise<Containment>;
}

const MIN_ID = 1000;
const MAX_ID = 99_999;

export class SessionManager {
  private readonly sessions = new Map<number, ExecSession>();
  private readonly usedIds = new Set<number>();
  private readonly idleTimers = new Map<number, NodeJS.Timeout>();
  private started = 0;
  private killed = 0;
  private timedOut = 0;
  private starting = 0;
  private closed = false;
  private containmentInfo: Containment | undefined;

  constructor(private readonly opts: SessionManagerOptions) {}

  private containment(): Promise<Containment> {
    return (this.opts.containment ?? containment)();
  }

  /** Probes containment now, so the first call does not pay for it. */
  async warmUp(): Promise<Containment> {
    this.containmentInfo = await this.containment();
    return this.containmentInfo;
  }

  get open(): number {
    return this.sessions.size;
  }

  private newId(): number {
    // Random like Codex's, and never reused while this daemon lives: a stale id never reaches a new session.
    for (;;) {
      const id = MIN_ID + Math.floor(Math.random() * (MAX_ID - MIN_ID + 1));
      if (!this.usedIds.has(id)) {
        this.usedIds.add(id);
        return id;
      }
      if (this.usedIds.size > (MAX_ID - MIN_ID) / 2) this.usedIds.clear();
    }
  }

  async start(spec: SessionSpec): Promise<ExecSession> {
    if (this.closed) throw new ExecError("the daemon is shutting down; no new session can start");
    const { max_sessions } = this.opts.limits();
    if (this.sessions.size + this.starting >= max_sessions) {
      throw new ExecError(
        `max_sessions (${max_sessions}) reached: ${this.sessions.size} sessions are open. End one with \`toold sessions kill ID\` (or write_stdin "\\u0003" to a terminal session), read an exited one with write_stdin, or raise [exec] max_sessions in vtcode.toml.`,
        { open: this.sessions.size, max_sessions },
      );
    }
    this.starting++;
    try {
      const c = this.containmentInfo ?? (await this.warmUp());
      const id = this.newId();
      const marker = newMarker(this.opts.workspaceKey, `session-${id}`);
      const session = await ExecSession.start(
        id,
        { ...spec, env: { ...spec.env, [MARKER_NAME]: marker } },
        c,
        marker,
      );
      this.started++;
      this.sessions.set(id, session);
      this.armIdle(session);
      this.opts.log.info(
        { session: id, pid: session.pid, tty: spec.tty, command: spec.display },
        "session started",
      );
      this.opts.onChange?.(this.sessions.size);
      return session;
    } finally {
      this.starting--;
    }
  }

  get(id: number): ExecSession | undefined {
    return this.sessions.get(id);
  }

  /** The session, or an ExecError that says why there is none. */
  require(id: number): ExecSession {
    const session = this.sessions.get(id);
    if (session) return session;
    throw new ExecError(
      `no session ${id}: it never existed, was killed or timed out, or exited and its output was read. \`toold sessions\` lists the open ones.`,
      { session_id: id },
    );
  }

  /** A call begins or ends using the session: it does not time out while used. */
  enter(session: ExecSession): void {
    session.activeCalls++;
    session.lastUsedAt = Date.now();
  }
  exit(session: ExecSession): void {
    session.activeCalls--;
    session.lastUsedAt = Date.now();
    this.armIdle(session);
  }

  private armIdle(session: ExecSession): void {
    const prev = this.idleTimers.get(session.id);
    if (prev) clearTimeout(prev);
    const secs = this.opts.limits().session_idle_timeout_secs;
    if (secs === 0 || !this.sessions.has(session.id)) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(session.id);
      if (!this.sessions.has(session.id)) return;
      if (session.activeCalls > 0) return this.armIdle(session);
      this.timedOut++;
      this.opts.log.info({ session: session.id, idleSecs: secs }, "session idle timeout: ending it");
      void this.end(session, "idle");
    }, secs * 1000);
    timer.unref();
    this.idleTimers.set(session.id, timer);
  }

  /** Forgets a session whose command exited and whose output has been read. */
  release(session: ExecSession): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    const timer = this.idleTimers.get(session.id);
    if (timer) clearTimeout(timer);
    this.idleTimers.delete(session.id);
    this.opts.onChange?.(this.sessions.size);
  }

  private async end(session: ExecSession, reason: "killed" | "idle" | "shutdown"): Promise<number[]> {
    const left = await session.terminate(reason);
    if (left.length > 0) {
      this.opts.log.error({ session: session.id, pids: left }, "processes of the session survived SIGKILL");
    }
    this.release(session);
    return left;
  }

  /** Ends a session and all its processes; undefined when there is no such session. */
  async kill(id: number): Promise<ExecSessionInfo | undefined> {
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const wasRunning = session.running;
    await this.end(session, "killed");
    if (wasRunning) this.killed++;
    return this.summary(session);
  }

  summary(session: ExecSession): ExecSessionInfo {
    return {
      session_id: session.id,
      command: session.spec.display,
      cwd: session.spec.cwdRel,
      pid: session.pid,
      tty: session.spec.tty,
      started_at: new Date(session.startedAt).toISOString(),
      status: session.running ? "running" : "exited",
      exit_code: session.exitCode,
      idle_ms: session.activeCalls > 0 ? 0 : Date.now() - session.lastUsedAt,
      unread_bytes: session.unreadBytes,
      output_bytes: session.totalBytes,
    };
  }

  list(): ExecSessionInfo[] {
    return [...this.sessions.values()].sort((a, b) => a.startedAt - b.startedAt).map((s) => this.summary(s));
  }

  stats(): ExecSessionStats {
    let running = 0;
    for (const s of this.sessions.values()) if (s.running) running++;
    return {
      open: this.sessions.size,
      running,
      started: this.started,
      killed: this.killed,
      timedOut: this.timedOut,
      containment: this.containmentInfo?.summary ?? "not probed yet",
    };
  }

  /** Applies new limits (a config reload): idle timers restart with the new timeout. */
  reconfigure(): void {
    for (const session of this.sessions.values()) this.armIdle(session);
  }

  /**
   * Kills processes a dead daemon of this workspace left (they carry its marker): with the
   * sweep, a daemon killed by SIGKILL cannot end its sessions itself.
   */
  sweepOrphans(): number {
    const prefix = `${MARKER_NAME}=${this.opts.workspaceKey}:`;
    let killed = 0;
    for (const pid of listPids()) {
      if (pid === process.pid) continue;
      for (const entry of environEntries(pid, prefix)) {
        const owner = Number(entry.slice(prefix.length).split(":")[0]); // the daemon's pid
        if (owner !== process.pid && signalPid(pid, "SIGKILL")) killed++;
        break;
      }
    }
    if (killed > 0) this.opts.log.warn({ killed }, "killed processes left by a previous daemon's sessions");
    return killed;
  }

  /** Ends every session (daemon shutdown). */
  async shutdown(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sessions.values()].map((s) => this.end(s, "shutdown")));
  }
}
