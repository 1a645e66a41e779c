/** The one pino root logger. Detached daemons log JSON lines to a file next to the socket. */
import { pino, type Logger, type LevelWithSilent } from "pino";

export function createRootLogger(opts: { level: LevelWithSilent; file?: string | undefined }): Logger {
  const destination = opts.file
    ? pino.destination({ dest: opts.file, sync: false, mkdir: true })
    : pino.destination({ dest: 2, sync: true });
  return pino({ level: opts.level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
