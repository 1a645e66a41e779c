/**
 * The journal's on-disk framing: an append-only sequence of frames
 *
 *   magic "TJ01" | u32 BE payload length | 8 bytes of sha256(payload) | payload
 *   payload = u32 BE JSON length | JSON record | blob bytes (file contents the record points into)
 *
 * A frame is appended with one write and fsynced, so a crash leaves at most one torn frame, at the
 * end. `decodeFrames` stops at the first frame that is short, has a bad magic or a bad checksum and
 * reports where the good prefix ends; the journal truncates there and never applies what follows.
 */
import { createHash } from "node:crypto";

export const MAGIC = Buffer.from("TJ01", "latin1");
export const FRAME_HEADER_BYTES = 16;

export function checksum(payload: Buffer): Buffer {
  return createHash("sha256").update(payload).digest().subarray(0, 8);
}

/** One frame holding `record` (JSON) followed by `blobs`, concatenated. */
export function encodeFrame(record: object, blobs: readonly Buffer[] = []): Buffer {
  const json = Buffer.from(JSON.stringify(record), "utf8");
  const jsonLength = Buffer.alloc(4);
  jsonLength.writeUInt32BE(json.length);
  const payload = Buffer.concat([jsonLength, json, ...blobs]);
  const header = Buffer.alloc(FRAME_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(payload.length, 4);
  checksum(payload).copy(header, 8);
  return Buffer.concat([header, payload]);
}

export interface DecodedFrame {
  /** Offset of the frame (its header) in the input. */
  offset: number;
  /** Whole frame length, header included. */
  length: number;
  record: Record<string, unknown>;
  /** The blob area of the payload (a view into the input). */
  blobs: Buffer;
}

/** Decodes one frame at `offset`, or undefined when it is torn or corrupt. */
export function decodeFrameAt(data: Buffer, offset: number): DecodedFrame | undefined {
  if (offset + FRAME_HEADER_BYTES > data.length) return undefined;
  if (!data.subarray(offset, offset + 4).equals(MAGIC)) return undefined;
  const payloadLength = data.readUInt32BE(offset + 4);
  const start = offset + FRAME_HEADER_BYTES;
  if (payloadLength < 4 || start + payloadLength > data.length) return undefined;
  const payload = data.subarray(start, start + payloadLength);
  if (!checksum(payload).equals(data.subarray(offset + 8, offset + 16))) return undefined;
  const jsonLength = payload.readUInt32BE(0);
  if (4 + jsonLength > payload.length) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(payload.subarray(4, 4 + jsonLength).toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof record !== "object" || record === null || Array.isArray(record)) return undefined;
  return {
    offset,
    length: FRAME_HEADER_BYTES + payloadLength,
    record: record as Record<string, unknown>,
    blobs: payload.subarray(4 + jsonLength),
  };
}

/** Every good frame from the start, and the length of that good prefix. */
export function decodeFrames(data: Buffer): { frames: DecodedFrame[]; goodBytes: number } {
  const frames: DecodedFrame[] = [];
  let offset = 0;
  for (;;) {
    const frame = decodeFrameAt(data, offset);
    if (!frame) break;
    frames.push(frame);
    offset += frame.length;
  }
  return { frames, goodBytes: offset };
}
