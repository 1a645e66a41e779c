/**
 * Finding a test's processes from outside, whatever PID namespace they run in: a command started
 * with a unique argument (e.g. `sleep 100.123456`) is found by that argument in /proc/PID/cmdline.
 * A pid printed by `$!` inside a namespace would name another process outside it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

/** A `sleep` duration no other process on the machine uses: `100.<6 random digits>`. */
export function uniqueSleep(): string {
  return `100.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}`;
}

/** Live (not zombie) processes whose argv holds `arg` as a whole word. */
export function pidsWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      if (!argv.includes(arg)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") continue;
      found.push(pid);
    } catch {
      /* ended meanwhile */
    }
  }
  return found;
}

/** Waits until a process with `arg` exists (it started). */
export async function waitStarted(arg: string, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pidsWithArg(arg).length > 0) return true;
    await sleep(20);
  }
  return false;
}

/** Waits until no process with `arg` is left; true when none is. */
export async function waitNoneLeft(arg: string, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (pidsWithArg(arg).length === 0) return true;
    await sleep(25);
  }
  return pidsWithArg(arg).length === 0;
}

/** Live processes whose environment holds an entry starting with `prefix` (e.g. a session marker). */
export function pidsWithEnv(prefix: string): number[] {
  const needle = Buffer.from(prefix);
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${pid}/environ`);
      const at = env.indexOf(needle);
      if (at === -1 || (at > 0 && env[at - 1] !== 0)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z") continue;
      found.push(pid);
    } catch {
      /* ended meanwhile */
    }
  }
  return found;
}

/**
 * A shell line for a command in a PID namespace that starts `sleep <token>` in the background,
 * then writes a status of 0 on the init's status pipe (fd 3 of pid 1, copied with pidfd_getfd),
 * as a command that wants its call or session to end early would, and waits. It exits 99 where
 * it cannot (no python3, no pidfd_getfd). Run it only in a PID namespace: elsewhere pid 1 is the
 * machine's init.
 */
export function forgedStatusCommand(token: string): string {
  const forge =
    "import os,ctypes; n=ctypes.CDLL(None).syscall(438, os.pidfd_open(1), 3, 0); os.write(n, b'0\\n')";
  return `sleep ${token} & python3 -c "${forge}" || exit 99; wait`;
}
