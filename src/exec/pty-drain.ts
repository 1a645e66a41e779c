/**
 * The tail of a terminal's output that libuv leaves unread. A Linux pty hands out at most 4 KiB a
 * read, and libuv takes a short read seen together with POLLHUP (every process closed the
 * terminal's other side) as the end of the stream, while the pty still holds output
 * (node-pty #72, #85, #726). node-pty then closes the terminal and that output is gone: the last
 * KiB of a command that printed a lot before exiting were lost in ~25% of runs of plain node-pty
 * here. When the stream ends, the master is still open: reading it until it says EIO (empty, other
 * side closed) or EAGAIN (a process still holds the other side) recovers the tail.
 */
import { readSync } from "node:fs";
import type { IPty } from "@lydell/node-pty";

/** A bound on one drain: a process still writing to the terminal must not hold the daemon. */
const MAX_DRAIN_BYTES = 4 * 1024 * 1024;

/** node-pty's reader of the master (a tty.ReadStream), which its public interface does not name. */
interface PtyReader {
  once(event: "end", listener: () => void): unknown;
  readonly _handle?: { readonly fd?: number } | null;
}

/**
 * Hands `onOutput` what is left in `term`'s master when node-pty's reader ends, after the last
 * chunk it read. Returns false when this node-pty does not expose its reader (nothing is done).
 */
export function drainOnEnd(term: IPty, onOutput: (chunk: Buffer) => void): boolean {
  const reader = (term as unknown as { _socket?: PtyReader })._socket;
  if (!reader || typeof reader.once !== "function") return false;
  reader.once("end", () => {
    const fd = reader._handle?.fd;
    if (typeof fd !== "number" || fd < 0) return;
    const chunk = Buffer.allocUnsafe(64 * 1024);
    for (let drained = 0; drained < MAX_DRAIN_BYTES;) {
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch {
        return; // EIO: all read, the other side closed; EAGAIN: nothing more for now
      }
      if (n === 0) return;
      drained += n;
      onOutput(Buffer.from(chunk.subarray(0, n)));
    }
  });
  return true;
}
