/**
 * The journal file of one workspace: frames (src/journal/frames.ts) appended with one write and
 * an fsync, read back one at a time by offset, and rewritten (compacted) to a temp file renamed
 * over the old one when it grows past `[journal] max_bytes`. Private to the user: 0600 in a 0700
 * folder.
 */
import { constants } from "node:fs";
import { open, rename, unlink, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { FRAME_HEADER_BYTES, MAGIC, decodeFrameAt, type DecodedFrame } from "./frames.js";

/** A frame larger than this is corrupt, not a record (the budget of one entry is far below). */
const MAX_FRAME_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface StoredFrame {
  offset: number;
  length: number;
  record: Record<string, unknown>;
}

export interface LoadResult {
  frames: StoredFrame[];
  /** Bytes after the good prefix (a torn or corrupt tail) that were cut off. */
  truncatedBytes: number;
}

export class JournalFile {
  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private bytes: number,
  ) {}

  /** Opens (creating) the file and reads every good frame; a torn tail is cut off, never used. */
  static async open(file: string): Promise<{ journal: JournalFile; load: LoadResult }> {
    const { O_RDWR, O_CREAT, O_NOFOLLOW } = constants;
    const handle = await open(file, O_RDWR | O_CREAT | O_NOFOLLOW, 0o600);
    try {
      const size = (await handle.stat()).size;
      const frames: StoredFrame[] = [];
      let offset = 0;
      for (;;) {
        const frame = await readFrame(handle, offset, size);
        if (!frame) break;
        frames.push({ offset, length: frame.length, record: frame.record });
        offset += frame.length;
      }
      if (offset < size) {
        await handle.truncate(offset);
        await handle.sync();
      }
      return {
        journal: new JournalFile(file, handle, offset),
        load: { frames, truncatedBytes: size - offset },
      };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  get size(): number {
    return this.bytes;
  }

  /** Appends whole frames at the end; with `sync`, returns once they are on disk. */
  async append(frame: Buffer, opts: { sync: boolean }): Promise<{ offset: number; length: number }> {
    const offset = this.bytes;
    let written = 0;
    try {
      while (written < frame.length) {
        const { bytesWritten } = await this.handle.write(
          frame,
          written,
          frame.length - written,
          offset + written,
        );
        written += bytesWritten;
      }
      if (opts.sync) await this.handle.datasync();
    } catch (err) {
      // Leave no half frame behind for the next append to follow.
      await this.handle.truncate(offset).catch(() => undefined);
      throw err;
    }
    this.bytes = offset + frame.length;
    return { offset, length: frame.length };
  }

  /** The frame at `offset`, verified again (the file may have been damaged since it was loaded). */
  async read(offset: number): Promise<DecodedFrame | undefined> {
    return readFrame(this.handle, offset, this.bytes);
  }

  /**
   * Replaces the file with `head` followed by the frames at `keep` (in order), atomically: a temp
   * file, fsync, rename. Returns the new offset of each kept frame.
   */
  async rewrite(head: Buffer, keep: readonly { offset: number; length: number }[]): Promise<number[]> {
    const tmp = path.join(path.dirname(this.file), `.${path.basename(this.file)}.${process.pid}.tmp`);
    const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = constants;
    const out = await open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
    const offsets: number[] = [];
    let position = head.length;
    try {
      await out.write(head, 0, head.length, 0);
      for (const part of keep) {
        const buf = Buffer.allocUnsafe(part.length);
        await this.handle.read(buf, 0, part.length, part.offset);
        await out.write(buf, 0, buf.length, position);
        offsets.push(position);
        position += part.length;
      }
      await out.sync();
    } catch (err) {
      await out.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await out.close();
    await rename(tmp, this.file);
    const dir = await open(path.dirname(this.file), constants.O_RDONLY);
    await dir.sync().catch(() => undefined);
    await dir.close();
    const next = await open(this.file, constants.O_RDWR | O_NOFOLLOW);
    await this.handle.close().catch(() => undefined);
    this.handle = next;
    this.bytes = position;
    return offsets;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

async function readFrame(
  handle: FileHandle,
  offset: number,
  size: number,
): Promise<DecodedFrame | undefined> {
  if (offset + FRAME_HEADER_BYTES > size) return undefined;
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  await handle.read(header, 0, FRAME_HEADER_BYTES, offset);
  if (!header.subarray(0, 4).equals(MAGIC)) return undefined;
  const payloadLength = header.readUInt32BE(4);
  if (payloadLength > MAX_FRAME_BYTES || offset + FRAME_HEADER_BYTES + payloadLength > size) return undefined;
  const whole = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payloadLength);
  header.copy(whole, 0);
  await handle.read(whole, FRAME_HEADER_BYTES, payloadLength, offset + FRAME_HEADER_BYTES);
  // decodeFrameAt re-checks everything, checksum included.
  const frame = decodeFrameAt(whole, 0);
  return frame ? { ...frame, offset } : undefined;
}
