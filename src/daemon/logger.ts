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

/** A pino destination that counts bytes and rotates the file when it gets too big. */
export class RotatingFile implements DestinationStream {
  private readonly dest: SonicBoom;
  private size: number;

  constructor(
    readonly file: string,
    private limits: LogRotation,
  ) {
    this.dest = pino.destination({ dest: file, sync: false, mkdir: true });
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
    // Synchronous: measured, an asynchronous stderr (sonic-boom's fs.write on the thread pool)
    // cost more CPU per call than the write it saves, in sequential and pipelined calls alike.
    destination = pino.destination({ dest: 2, sync: true });
  }
  destinationInUse = destination as unknown as { flushSync(): void };
  return pino(
    { level: opts.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    destination,
  );
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
