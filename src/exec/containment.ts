/**
 * Nothing a command starts may outlive it: not a `setsid` child, not a double fork. Linux offers
 * a PID namespace for that: its first process is its init, and when that init ends the kernel
 * kills every process left in the namespace. So where `unshare` may create one (root, or an
 * unprivileged user namespace), each command runs as
 *
 *   setpriv --pdeathsig KILL -- unshare [--user --map-current-user] --pid --fork --kill-child
 *     [--mount-proc] -- /bin/sh -c '<run "$@", report and exit with its status>' toold-session
 *     env -i -- <the command's environment…> <command…>
 *
 * - `unshare --fork` makes the `sh` the namespace's init; `--kill-child` kills it when unshare
 *   dies; `setpriv --pdeathsig KILL` kills unshare when the daemon dies, even by SIGKILL.
 * - The `sh` runs the command as its child (a subshell that execs it) rather than exec'ing it,
 *   because an init ignores signals it has no handler for: Ctrl-C must reach the command.
 * - `--mount-proc` gives the namespace its own /proc, so pids that `ps` shows are the pids that
 *   `kill` takes inside it.
 * - With a status pipe (fd 3), the init writes the command's status there as soon as the command
 *   has exited: the caller learns it without waiting for unshare, which exits only after the
 *   kernel has torn the namespaces down (see initStatus).
 *
 * Where no namespace is allowed, the fallback is a sweep of /proc: the command leads its own
 * session, every process carries a marker in its environment, and the tree is tracked by
 * session, process group, parent and marker (see docs/security.md for what that cannot catch).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { accessSync, constants as fsConstants } from "node:fs";
import { constants } from "node:os";
import path from "node:path";
import { environHas, listPids, pidNamespaceOf, readStat, signalPid, type ProcStat } from "./proc.js";

export type ContainmentMode = "pid-namespace" | "sweep";

export interface Containment {
  readonly mode: ContainmentMode;
  /** An unprivileged user namespace was needed for the PID namespace (not root). */
  readonly userNamespace: boolean;
  readonly mountProc: boolean;
  /** `setpriv --pdeathsig` is available: the namespace dies with the daemon. */
  readonly pdeathsig: boolean;
  /**
   * Absolute paths of the helpers, found on the daemon's PATH when probed: a command's own `env`
   * (PATH, LD_PRELOAD…) must never choose or load the programs that contain it.
   */
  readonly bin: { readonly setpriv: string; readonly unshare: string; readonly env: string };
  /** One line for logs and stats. */
  readonly summary: string;
}

/** The name the environment marker goes by in every process of a session. */
export const MARKER_NAME = "TOOLD_EXEC_SESSION";
/**
 * The value of the marker: `<workspace key>:<daemon pid>:<label>:<random>`. Unique per command;
 * the first two fields let a later daemon of the workspace find what a killed one left.
 */
export function newMarker(workspaceKey: string, label: string): string {
  return `${workspaceKey}:${process.pid}:${label}:${randomBytes(6).toString("hex")}`;
}

/**
 * The init: runs the command as its child and exits with its status. The init's own stderr is
 * /dev/null, so its notices (dash prints "Terminated" when its child dies of SIGTERM) never mix
 * into the command's output; a subshell (a fork, no second program to load) puts the real stderr
 * back (fd 4), closes the status pipe (fd 3) and execs the command, so no redirection is pending
 * in the init while it waits (dash prints through those) and the command never holds fd 3.
 */
const INIT_RUN = `exec 4>&2 2>/dev/null; (exec 2>&4 4>&- 3>&-; exec "$@")`;
const INIT_SCRIPT = `${INIT_RUN}; exit $?`;
/** The same, reporting the status as a line on fd 3 before it exits. */
const INIT_SCRIPT_REPORTING = `${INIT_RUN}; s=$?; echo "$s" >&3; exit "$s"`;

/** The environment the helpers run with; the command gets its own through `env -i`. */
const HELPER_ENV: Readonly<Record<string, string>> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LC_ALL: "C" };

function runs(file: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 5000, env: HELPER_ENV }, (err) => resolve(!err));
  });
}

/** `name` on the daemon's PATH (then the system folders), as an absolute path. */
function which(name: string, env: NodeJS.ProcessEnv): string {
  for (const dir of [...(env.PATH ?? "").split(":"), ...HELPER_ENV.PATH!.split(":")]) {
    if (!dir.startsWith("/")) continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return name;
}

/** Tries what this machine allows, best first. `TOOLD_EXEC_CONTAINMENT=sweep` forces the fallback (tests). */
export async function probeContainment(env: NodeJS.ProcessEnv = process.env): Promise<Containment> {
  const forced = env.TOOLD_EXEC_CONTAINMENT;
  const bin = { setpriv: which("setpriv", env), unshare: which("unshare", env), env: which("env", env) };
  const pdeathsig = await runs(bin.setpriv, ["--pdeathsig", "KILL", "--", "true"]);
  if (forced !== "sweep") {
    const variants: [boolean, boolean][] = [
      [false, true],
      [true, true],
      [false, false],
      [true, false],
    ];
    for (const [userNamespace, mountProc] of variants) {
      const args = unshareArgs(userNamespace, mountProc);
      if (await runs(bin.unshare, [...args, "--", bin.env, "-i", "--", "true"])) {
        return {
          mode: "pid-namespace",
          userNamespace,
          mountProc,
          pdeathsig,
          bin,
          summary: `PID namespace per command (unshare${userNamespace ? " in a user namespace" : ""}${mountProc ? ", own /proc" : ""}${pdeathsig ? ", dies with the daemon" : ""})`,
        };
      }
    }
  }
  return {
    mode: "sweep",
    userNamespace: false,
    mountProc: false,
    pdeathsig,
    bin,
    summary:
      forced === "sweep"
        ? "process sweep (forced by TOOLD_EXEC_CONTAINMENT=sweep)"
        : "process sweep by session, group, parent and environment marker (unshare is not permitted here)",
  };
}

function unshareArgs(userNamespace: boolean, mountProc: boolean): string[] {
  return [
    ...(userNamespace ? ["--user", "--map-current-user"] : []),
    "--pid",
    "--fork",
    "--kill-child",
    ...(mountProc ? ["--mount-proc"] : []),
  ];
}

let probed: Promise<Containment> | undefined;

/** The containment of this process, probed once. */
export function containment(): Promise<Containment> {
  probed ??= probeContainment();
  return probed;
}

/**
 * What to spawn to run `argv` with `env`, contained. In a namespace the helpers (setpriv,
 * unshare, the init) run with a fixed environment, and `env -i` hands the command its own.
 * `statusPipe`: the caller gives the child a pipe as fd 3 (only when `statusPipe` comes back
 * true: in the sweep the command itself is the child, and would inherit it) and reads the
 * command's status from it with initStatus.
 */
export function containedSpawn(
  c: Containment,
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  opts: { statusPipe?: boolean } = {},
): { file: string; args: string[]; env: Record<string, string>; statusPipe: boolean } {
  if (c.mode === "sweep") return { file: argv[0]!, args: argv.slice(1), env: { ...env }, statusPipe: false };
  const statusPipe = opts.statusPipe ?? false;
  const assignments = Object.entries(env)
    .filter(([name]) => name !== "" && !name.includes("="))
    .map(([name, value]) => `${name}=${value}`);
  const full = [
    ...(c.pdeathsig ? [c.bin.setpriv, "--pdeathsig", "KILL", "--"] : []),
    c.bin.unshare,
    ...unshareArgs(c.userNamespace, c.mountProc),
    "--",
    "/bin/sh",
    "-c",
    statusPipe ? INIT_SCRIPT_REPORTING : INIT_SCRIPT,
    "toold-session",
    c.bin.env,
    "-i",
    "--",
    ...assignments,
    ...argv,
  ];
  return { file: full[0]!, args: full.slice(1), env: { ...HELPER_ENV }, statusPipe };
}

/**
 * After the init reported the command's status, how long unshare may take to end (the kernel
 * tears the namespace down first) before the caller ends the tree itself: a status the command
 * wrote itself never leaves its processes running.
 */
export const ROOT_EXIT_AFTER_STATUS_MS = 50;

/**
 * Calls `onStatus` once with the exit code the init wrote on the status pipe (its first line).
 * The command could write a line there too (the init's fd is reachable through /proc/1/fd/3), so
 * a caller treats it as "the command says it exited": it may answer, but must still see the
 * namespace end (unshare's exit) or end it itself.
 */
export function initStatus(pipe: NodeJS.ReadableStream, onStatus: (code: number) => void): void {
  let text = "";
  let reported = false;
  pipe.on("error", () => {}); // a broken status pipe only means the root's exit will tell
  pipe.on("data", (chunk: Buffer | string) => {
    if (reported) return;
    text += chunk.toString();
    const line = /^(\d{1,3})\n/.exec(text);
    if (line) {
      reported = true;
      onStatus(Number(line[1]));
    } else if (text.includes("\n") || text.length > 8) {
      reported = true; // not the init's line: ignore the pipe, the root's exit will tell
    }
  });
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n as number, name]));

export function signalName(n: number): string {
  return SIGNAL_NAMES.get(n) ?? `signal ${n}`;
}

/**
 * How a contained command ended. In a PID namespace the command runs under the `sh` init, which
 * exits with 128 + N when the command died of signal N: that is reported as the signal (a command
 * that itself ran `exit 130` looks the same; shells conflate the two as well).
 */
export function exitStatus(
  c: Containment,
  code: number | null,
  signal: string | null,
): { code: number | null; signal: string | null } {
  if (c.mode === "pid-namespace" && signal === null && code !== null && code > 128 && code < 160) {
    const name = SIGNAL_NAMES.get(code - 128);
    if (name !== undefined) return { code: null, signal: name };
  }
  return { code, signal };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The daemon's own PID namespace: read once, it never changes. */
let daemonNamespace: { readonly id: string | undefined } | undefined;
function ownPidNamespace(): string | undefined {
  daemonNamespace ??= { id: pidNamespaceOf("self") };
  return daemonNamespace.id;
}

/**
 * Every process of one contained command: found by PID namespace, or by the sweep. The root is
 * the process the daemon spawned (unshare, or the command itself in the sweep).
 */
export class ProcessTree {
  private namespace: string | undefined;
  private readonly ownNamespace = ownPidNamespace();
  private readonly rootStart: number;
  /** Sweep: processes seen in the tree, pid → start time (a pid reused later is not ours). */
  private readonly tracked = new Map<number, number>();
  private readonly marker: Buffer;

  constructor(
    readonly containment: Containment,
    readonly rootPid: number,
    marker: string,
    /** False once the daemon has reaped the root: its pid may then belong to someone else. */
    private readonly rootRunning: () => boolean,
  ) {
    this.marker = Buffer.from(marker === "" ? "" : `${MARKER_NAME}=${marker}`);
    this.rootStart = readStat(rootPid)?.startTime ?? 0;
    this.tracked.set(rootPid, this.rootStart);
  }

  /** The namespace's `pid:[inode]`, once unshare has created it. */
  namespaceId(): string | undefined {
    if (this.namespace === undefined && this.containment.mode === "pid-namespace" && this.rootRunning()) {
      const ns = pidNamespaceOf(this.rootPid, "pid_for_children");
      if (ns !== undefined && ns !== this.ownNamespace) this.namespace = ns;
    }
    return this.namespace;
  }

  /** Pids of the tree's live processes (zombies excluded), the root included while it runs. */
  members(): number[] {
    return this.scan().members;
  }

  private scan(withEnvironment = true): { members: number[]; ownGroups: number[] } {
    const ns = this.namespaceId();
    if (ns !== undefined) {
      // Every process in the namespace, and the root: their process groups hold no one else
      // (a group lives in one session, and all of the root's descendants are in the namespace).
      const members: number[] = [];
      const groups = new Set<number>();
      const add = (st: ProcStat | undefined) => {
        if (!st || st.state === "Z") return;
        members.push(st.pid);
        if (st.pgid > 1) groups.add(st.pgid);
      };
      if (this.rootRunning()) add(readStat(this.rootPid));
      for (const pid of listPids()) {
        if (pid !== process.pid && pid !== this.rootPid && pidNamespaceOf(pid) === ns) add(readStat(pid));
      }
      return { members, ownGroups: [...groups] };
    }
    const stats: ProcStat[] = [];
    for (const pid of listPids()) {
      if (pid === process.pid) continue;
      const st = readStat(pid);
      if (st && st.state !== "Z") stats.push(st);
    }
    const found = new Set<number>();
    if (this.rootRunning()) found.add(this.rootPid);
    // The sweep's rules; in namespace mode only for the moment before unshare has made it.
    const byPid = new Map(stats.map((s) => [s.pid, s]));
    for (const [pid, start] of this.tracked) {
      const st = byPid.get(pid);
      if (st && st.startTime === start) found.add(pid);
      else this.tracked.delete(pid);
    }
    const groups = new Set<number>();
    let grew = true;
    while (grew) {
      grew = false;
      for (const pid of found) {
        const g = byPid.get(pid)?.pgid;
        if (g !== undefined) groups.add(g);
      }
      for (const st of stats) {
        if (found.has(st.pid) || st.startTime < this.rootStart) continue;
        if ((st.sid === this.rootPid && this.rootStart > 0) || found.has(st.ppid) || groups.has(st.pgid)) {
          found.add(st.pid);
          grew = true;
        }
      }
    }
    if (this.containment.mode === "sweep" && withEnvironment) {
      for (const st of stats) {
        if (!found.has(st.pid) && st.startTime >= this.rootStart && environHas(st.pid, this.marker)) {
          found.add(st.pid);
        }
      }
    }
    for (const pid of found) {
      const st = byPid.get(pid);
      if (st) this.tracked.set(pid, st.startTime);
    }
    // Process groups made only of the tree's processes: signalled as one, atomically.
    const foreign = new Set<number>();
    for (const st of stats) if (!found.has(st.pid)) foreign.add(st.pgid);
    const ownGroups = [...groups].filter((g) => g > 1 && !foreign.has(g));
    return { members: [...found], ownGroups };
  }

  /**
   * Signals every process: whole process groups at once where a group is all ours (a shell that
   * saw its child die before its own signal arrived would print "Terminated" into the output),
   * then each process one by one.
   */
  private signalAll(signal: NodeJS.Signals): number[] {
    const { members, ownGroups } = this.scan();
    for (const g of ownGroups) signalPid(-g, signal);
    for (const pid of members) signalPid(pid, signal);
    return members;
  }

  /** Sweep mode: remember the tree now, so a process that later leaves its session is still known. */
  track(): void {
    // By session, group and parent only: reading every process's environment is the costly part,
    // and the marker is still there when the tree is ended.
    if (this.containment.mode === "sweep") this.scan(false);
  }

  /**
   * SIGTERM to every process, SIGKILL to what is left after `graceMs`, until nothing is left.
   * Resolves with the pids still alive at the end (empty unless the kernel refused).
   */
  async terminate(graceMs: number): Promise<number[]> {
    // unshare ends only after the init, and the kernel ends the namespace with its init.
    if (this.containment.mode === "pid-namespace" && !this.rootRunning()) return [];
    let left = this.signalAll("SIGTERM");
    const graceEnd = Date.now() + graceMs;
    while (left.length > 0 && Date.now() < graceEnd) {
      await sleep(20);
      left = this.members();
    }
    for (let round = 0; round < 50 && left.length > 0; round++) {
      // unshare's --kill-child takes the namespace's init, and the kernel every other member.
      if (this.rootRunning()) signalPid(this.rootPid, "SIGKILL");
      for (const pid of left) signalPid(pid, "SIGKILL");
      await sleep(20);
      left = this.members();
    }
    return left;
  }
}
