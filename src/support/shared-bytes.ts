/**
 * Memory a worker thread can read without a copy. A large cached file (and its search summary)
 * lives in a SharedArrayBuffer, so a warm search can hand it to the cold search's workers by
 * reference and scan it on another core (src/search/cold-search.ts `scanShared`); small files
 * stay in ordinary buffers, where sharing would buy nothing.
 */

/** Files of at least this many bytes are cached in shared memory (the default). */
export const SHARED_FROM_BYTES = 256 * 1024;

/** A buffer of `size` bytes for a file's content: shared from `sharedFrom` bytes on. */
export function fileBuffer(size: number, sharedFrom: number = SHARED_FROM_BYTES): Buffer {
  return size >= sharedFrom && size > 0
    ? Buffer.from(new SharedArrayBuffer(size))
    : Buffer.allocUnsafeSlow(size);
}

/** A zeroed Uint32Array of `length`, shared when `shared`. */
export function uint32s(length: number, shared: boolean): Uint32Array {
  return shared ? new Uint32Array(new SharedArrayBuffer(length * 4)) : new Uint32Array(length);
}

export function isShared(view: ArrayBufferView): boolean {
  return view.buffer instanceof SharedArrayBuffer;
}
