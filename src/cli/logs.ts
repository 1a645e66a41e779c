/**
 * `toold logs [-f]`: prints the daemon's log (the rotated files, oldest first, then the live one),
 * one readable line per record; `-f` keeps following, across rotations: when the live file is
 * renamed away, the rest of the old file is read before the new one is opened.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";
import { readFullySync } from "../support/confined-fs.js";

const POLL_MS = 200;

export interface LogsOptions {
  file: string;
  /** Rotated files to look at (`<file>.1` … `<file>.N`). */
  maxRotated: number;
  /** Records to print before following; Infinity prints everything. */
  lines: number;
  follow: boolean;
  signal: AbortSignal;
  /** Receives one complete line (without the newline). */
  emit: (line: string) => void;
}

function readAll(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(size);
    return buf.toString("utf8", 0, readFullySync(fd, buf));
  } finally {
    closeSync(fd);
  }
}

/** Which rotated generation (`<file>.N`) is the file with inode `ino`, if any is. */
function rotatedIndexOf(file: string, maxRotated: number, ino: number | undefined): number | undefined {
  if (ino === undefined) return undefined;
  for (let i = 1; i <= maxRotated; i++) {
    try {
      if (statSync(`${file}.${i}`).ino === ino) return i;
    } catch {
      return undefined; // generations are contiguous: past the last one
    }
  }
  return undefined;
}

/** Prints the log; resolves when done (without `follow`) or when `signal` aborts. */
export async function showLogs(opts: LogsOptions): Promise<"ok" | "missing"> {
  const lines: string[] = [];
  let any = false;
  for (let i = opts.maxRotated; i >= 1; i--) {
    const text = readAll(`${opts.file}.${i}`);
    if (text === undefined) continue;
    any = true;
    lines.push(...text.split("\n").filter((l) => l.length > 0));
  }
  // Open the live file before reading it, so following starts exactly where printing stopped.
  let live = Tail.open(opts.file);
  if (live) any = true;
  live?.drain(lines);
  if (!any && !opts.follow) return "missing";
  const last = opts.lines <= 0 ? [] : Number.isFinite(opts.lines) ? lines.slice(-opts.lines) : lines;
  for (const l of last) opts.emit(l);
  lines.length = 0;
  if (!opts.follow) {
    live?.close();
    return "ok";
  }
  // A file rotated away may still get the daemon's last in-flight write: keep reading it for one
  // more poll before closing it.
  let retired: Tail | undefined;
  while (!opts.signal.aborted) {
    // Aborting (Ctrl-C) ends the wait at once; the timer keeps no listener behind.
    await sleep(POLL_MS, undefined, { signal: opts.signal }).catch(() => undefined);
    retired?.drain(lines);
    retired?.close();
    retired = undefined;
    live?.drain(lines);
    let current: number | undefined;
    try {
      current = statSync(opts.file).ino;
    } catch {
      current = undefined; // between the rename and the new file
    }
    if (current !== undefined && current !== live?.ino) {
      // Rotated: the old file was drained above; next come the generations that were created and
      // rotated away between two polls (newer than ours: lower numbers), then the new live file.
      const ours = rotatedIndexOf(opts.file, opts.maxRotated, live?.ino);
      for (let i = (ours ?? 1) - 1; i >= 1; i--) {
        const text = readAll(`${opts.file}.${i}`);
        if (text !== undefined) lines.push(...text.split("\n").filter((l) => l.length > 0));
      }
      retired = live;
      live = Tail.open(opts.file);
      live?.drain(lines);
    }
    for (const l of lines) opts.emit(l);
    lines.length = 0;
  }
  retired?.close();
  live?.close();
  return "ok";
}

/** An open log file read from where the last read stopped, whole lines at a time. */
class Tail {
  private pos = 0;
  private partial = "";
  private constructor(
    private readonly fd: number,
    readonly ino: number,
  ) {}

  static open(file: string): Tail | undefined {
    try {
      const fd = openSync(file, "r");
      return new Tail(fd, fstatSync(fd).ino);
    } catch {
      return undefined;
    }
  }

  drain(into: string[]): void {
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(this.fd, buf, 0, buf.length, this.pos);
      if (n === 0) break;
      this.pos += n;
      const parts = (this.partial + buf.subarray(0, n).toString("utf8")).split("\n");
      this.partial = parts.pop() ?? "";
      for (const l of parts) if (l.length > 0) into.push(l);
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
