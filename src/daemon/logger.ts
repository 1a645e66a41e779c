/**
 * The one pino root logger. Detached daemons log JSON lines to a file in the state folder, rotated
 * by size: when the file would pass `maxBytes` it becomes `<log>.1` (older ones shift up to
 * `<log>.<maxFiles>`, the oldest is deleted) and a new file starts, so the logs never hold more
 * than about (maxFiles + 1) × maxBytes.
 */
import { renameSync, rmSync, statSync } from "node:fs";
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";

export interface LogRotation {
  /** Size at which the live file is rotated. */
  maxBytes: number;
  /** Rotated files kept (`<log>.1` … `<log>.N`); 0 keeps none. */
  maxFiles: number;
}

type SonicBoom = ReturnType<typeof pino.destination>;

/**
 * Log lines are written in blocks of this many bytes (one write per ~20 call lines instead of one
 * each), at the latest `FLUSH_EVERY_MS` after they were logged; a warning or worse, and the way
 * out (`flushLogsSync`), write at once.
 */
const BLOCK_BYTES = 4096;
const FLUSH_EVERY_MS = 100;

/** pino lines start with `{"level":NN`: 40 and up (warn, error, fatal) are written at once. */
function urgent(line: string): boolean {
  return line.charCodeAt(9) >= 0x34 && line.startsWith('{"level":');
}

/**
 * Synchronous writes, buffered: see BLOCK_BYTES. The block is gathered here, not by sonic-boom's
 * `minLength`, which measures its whole pending buffer again on every line (~1 µs a line, more than
 * writing each line at once).
 */
class BlockWriter {
  private pending = "";
  private readonly stream: SonicBoom;

  constructor(dest: string | number) {
    this.stream = pino.destination({ dest, sync: true, mkdir: true });
    setInterval(() => {
      try {
        this.writePending();
      } catch {
        /* the stream is gone (closed on the way out) */
      }
    }, FLUSH_EVERY_MS).unref();
  }

  write(line: string): boolean {
    this.pending += line;
    if (urgent(line)) this.flushSync();
    else if (this.pending.length >= BLOCK_BYTES) this.writePending();
    return true;
  }

  /** One synchronous write of what is pending (not `flushSync`, which also fsyncs the file). */
  private writePending(): void {
    if (this.pending.length === 0) return;
    const block = this.pending;
    this.pending = "";
    this.stream.write(block);
  }

  /** Writes what is pending and syncs it to the disk: a warning or worse, rotation, the way out. */
  flushSync(): void {
    this.writePending();
    this.stream.flushSync();
  }

  flush(cb?: (err?: Error) => void): void {
    this.flushSync();
    this.stream.flush(cb);
  }

  /** Reopens the file (after a rotation); what is buffered belongs to the old one: flush first. */
  reopen(): void {
    this.stream.reopen();
  }
}

/** A pino destination that counts bytes and rotates the file when it gets too big. */
export class RotatingFile implements DestinationStream {
  private readonly dest: BlockWriter;
  private size: number;

  constructor(
    readonly file: string,
    private limits: LogRotation,
  ) {
    this.dest = new BlockWriter(file);
    try {
      this.size = statSync(file).size;
    } catch {
      this.size = 0;
    }
  }

  setLimits(limits: LogRotation): void {
    this.limits = limits;
  }

  write(line: string): boolean {
    const bytes = Buffer.byteLength(line);
    if (this.size > 0 && this.size + bytes > this.limits.maxBytes) this.rotate();
    this.size += bytes;
    return this.dest.write(line);
  }

  flush(cb?: (err?: Error) => void): void {
    this.dest.flush(cb);
  }

  flushSync(): void {
    this.dest.flushSync();
  }

  private rotate(): void {
    const { file } = this;
    try {
      this.dest.flushSync(); // what is buffered belongs to the file being rotated out
      // Renames are safe while writes are pending: the open fd keeps writing to the renamed file
      // until reopen() swaps it, so no line is split or lost.
      rmSync(`${file}.${this.limits.maxFiles}`, { force: true });
      for (let i = this.limits.maxFiles - 1; i >= 1; i--) {
        try {
          renameSync(`${file}.${i}`, `${file}.${i + 1}`);
        } catch {
          /* that generation does not exist yet */
        }
      }
      if (this.limits.maxFiles > 0) renameSync(file, `${file}.1`);
      else rmSync(file, { force: true });
    } catch {
      // Cannot rotate (folder gone, permissions): keep writing to the current file.
      return;
    }
    this.size = 0;
    this.dest.reopen();
  }
}

/**
 * pino's `isoTime`, formatted once per millisecond: a busy daemon logs many calls in one, and
 * `toISOString` is a good part of a line's cost.
 */
let lastTimeMs = -1;
let lastTime = "";
function isoTime(): string {
  const now = Date.now();
  if (now !== lastTimeMs) {
    lastTimeMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

let rotating: RotatingFile | undefined;
/** The root logger's destination, for a synchronous flush on the way out. */
let destinationInUse: { flushSync(): void } | undefined;

export function createRootLogger(opts: {
  level: LevelWithSilent;
  file?: string | undefined;
  rotation?: LogRotation | undefined;
}): Logger {
  let destination: DestinationStream;
  if (opts.file) {
    rotating = new RotatingFile(opts.file, opts.rotation ?? { maxBytes: 10 * 1024 * 1024, maxFiles: 3 });
    destination = rotating;
  } else {
    // Synchronous and buffered: measured, an asynchronous stderr (sonic-boom's fs.write on the
    // thread pool) cost more CPU per call than the write it saves; a write per line cost ~5% of
    // the daemon's CPU under pipelined calls.
    const stderr = new BlockWriter(2);
    destination = {
      write: (line: string) => stderr.write(line),
      flushSync: () => stderr.flushSync(),
    } as DestinationStream;
  }
  destinationInUse = destination as unknown as { flushSync(): void };
  return pino({ level: opts.level, base: { pid: process.pid }, timestamp: isoTime }, destination);
}

/** Writes out what the logger still buffers; call before the process exits. */
export function flushLogsSync(): void {
  try {
    destinationInUse?.flushSync();
  } catch {
    /* nothing buffered, or the stream is gone: nothing more can be done on the way out */
  }
}

/** Applies new rotation limits (config reload); a no-op when logging to stderr. */
export function setLogRotation(limits: LogRotation): void {
  rotating?.setLimits(limits);
}
