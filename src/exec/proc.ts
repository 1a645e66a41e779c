/**
 * Reading Linux's /proc: the process table as a sweep needs it (parent, group, session, start
 * time), a process's PID namespace, and whether its environment holds a marker. Every read is of
 * a pseudo-file (no disk), and a process that ends mid-read is simply skipped.
 */
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

export interface ProcStat {
  pid: number;
  ppid: number;
  pgid: number;
  sid: number;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  startTime: number;
  /** R, S, D, Z (zombie), T, … */
  state: string;
}

export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses, so split after the last ")". */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  // fields[0] is field 3 (state); ppid is field 4, pgrp 5, session 6, starttime 22.
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    startTime: Number(fields[19]),
  };
}

/** The `pid:[inode]` link naming a process's PID namespace (or the one its children get). */
export function pidNamespaceOf(
  pid: number | "self",
  which: "pid" | "pid_for_children" = "pid",
): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${which}`);
  } catch {
    return undefined;
  }
}

/** Whether the process's initial environment holds `needle` (a whole `NAME=value` entry). */
export function environHas(pid: number, needle: Buffer): boolean {
  if (needle.length === 0) return false;
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  let at = env.indexOf(needle);
  while (at !== -1) {
    const startsEntry = at === 0 || env[at - 1] === 0;
    const endsEntry = at + needle.length === env.length || env[at + needle.length] === 0;
    if (startsEntry && endsEntry) return true;
    at = env.indexOf(needle, at + 1);
  }
  return false;
}

/** Environment entries of a process that start with `prefix` (e.g. `TOOLD_EXEC_SESSION=`). */
export function environEntries(pid: number, prefix: string): string[] {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return [];
  }
  const needle = Buffer.from(prefix);
  const out: string[] = [];
  let at = env.indexOf(needle);
  while (at !== -1) {
    if (at === 0 || env[at - 1] === 0) {
      const end = env.indexOf(0, at);
      out.push(env.subarray(at, end === -1 ? env.length : end).toString("utf8"));
    }
    at = env.indexOf(needle, at + 1);
  }
  return out;
}

export function signalPid(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}
