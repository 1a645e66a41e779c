/**
 * `toold logs [-f]`: prints the daemon's log (the rotated files, oldest first, then the live one),
 * one readable line per record; `-f` keeps following, across rotations: when the live file is
 * renamed away, the rest of the old file is read before the new one is opened.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from "node:fs";

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
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString("utf8");
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
  let fd: number | undefined;
  let ino: number | undefined;
  let pos = 0;
  try {
    fd = openSync(opts.file, "r");
    ino = fstatSync(fd).ino;
    any = true;
  } catch {
    fd = undefined;
  }
  let partial = "";
  const drain = (): void => {
    if (fd === undefined) return;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      const text = partial + buf.subarray(0, n).toString("utf8");
      const parts = text.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) if (l.length > 0) lines.push(l);
    }
  };
  drain();
  if (!any && !opts.follow) return "missing";
  const last = opts.lines <= 0 ? [] : Number.isFinite(opts.lines) ? lines.slice(-opts.lines) : lines;
  for (const l of last) opts.emit(l);
  lines.length = 0;
  if (!opts.follow) {
    if (fd !== undefined) closeSync(fd);
    return "ok";
  }
  while (!opts.signal.aborted) {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, POLL_MS);
      opts.signal.addEventListener("abort", () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
    drain();
    let current: number | undefined;
    try {
      current = statSync(opts.file).ino;
    } catch {
      current = undefined; // between the rename and the new file
    }
    if (current !== undefined && current !== ino) {
      // Rotated: finish the old file (drained above), then any generations that were created and
      // rotated away between two polls (newer than ours: lower numbers), then the new live file.
      drain();
      if (fd !== undefined) closeSync(fd);
      if (partial) lines.push(partial);
      partial = "";
      const ours = rotatedIndexOf(opts.file, opts.maxRotated, ino);
      for (let i = (ours ?? 1) - 1; i >= 1; i--) {
        const text = readAll(`${opts.file}.${i}`);
        if (text !== undefined) lines.push(...text.split("\n").filter((l) => l.length > 0));
      }
      try {
        fd = openSync(opts.file, "r");
        ino = fstatSync(fd).ino;
      } catch {
        fd = undefined;
        ino = undefined;
      }
      pos = 0;
      drain();
    }
    for (const l of lines) opts.emit(l);
    lines.length = 0;
  }
  if (fd !== undefined) closeSync(fd);
  return "ok";
}
