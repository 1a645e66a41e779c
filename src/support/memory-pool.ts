/**
 * The memory pool: size-classed Buffers reused across calls on the paths that allocate per call
 * (file reads, search, response building). A buffer is owned by exactly one caller between
 * `acquire` and `release`; at most `maxPerClass` are kept per class and the pool never holds more
 * than `maxPooledBytes`. With the pool disabled the same calls allocate fresh buffers.
 */
import type { MemoryPoolStats } from "../protocol/methods.js";

export interface BufferPoolOptions {
  enabled: boolean;
  /** `[optimization.memory_pool] max_string_pool_size`: buffers kept per size class. */
  maxPerClass: number;
  /** Smallest class; smaller requests get a buffer of this size. */
  minClassBytes?: number;
  /** Largest class; bigger requests get an unpooled buffer that is dropped on release. */
  maxClassBytes?: number;
  /** Hard bound on the bytes the pool keeps idle. */
  maxPooledBytes?: number;
}

const DEFAULT_MIN_CLASS = 4 * 1024;
const DEFAULT_MAX_CLASS = 4 * 1024 * 1024;
const DEFAULT_MAX_POOLED_BYTES = 64 * 1024 * 1024;

export class BufferPool {
  private enabled: boolean;
  private maxPerClass: number;
  private readonly minClassBytes: number;
  private readonly maxClassBytes: number;
  private readonly maxPooledBytes: number;
  /** Free lists, index = log2(class / minClass). */
  private readonly free: Buffer[][];
  private readonly leased = new Set<Buffer>();
  private pooledBytes = 0;
  private hits = 0;
  private misses = 0;
  private returned = 0;
  private dropped = 0;

  constructor(options: BufferPoolOptions) {
    this.enabled = options.enabled;
    this.maxPerClass = options.maxPerClass;
    this.minClassBytes = options.minClassBytes ?? DEFAULT_MIN_CLASS;
    this.maxClassBytes = options.maxClassBytes ?? DEFAULT_MAX_CLASS;
    this.maxPooledBytes = options.maxPooledBytes ?? DEFAULT_MAX_POOLED_BYTES;
    const classes = Math.log2(this.maxClassBytes / this.minClassBytes) + 1;
    if (!Number.isInteger(classes) || classes < 1) {
      throw new Error("BufferPool: maxClassBytes / minClassBytes must be a power of two >= 1");
    }
    this.free = Array.from({ length: classes }, () => []);
  }

  /** Size class index for a request, or -1 when it is larger than the largest class. */
  private classOf(size: number): number {
    if (size > this.maxClassBytes) return -1;
    if (size <= this.minClassBytes) return 0;
    return Math.ceil(Math.log2(size / this.minClassBytes));
  }

  /**
   * A buffer of at least `size` bytes, owned by the caller until `release`. Its contents are
   * whatever the last user left: read only what you wrote. Always pair with `release` in `finally`.
   */
  acquire(size: number): Buffer {
    const cls = this.classOf(size);
    let buf: Buffer | undefined;
    if (this.enabled && cls >= 0) buf = this.free[cls]?.pop();
    if (buf) {
      this.hits++;
      this.pooledBytes -= buf.length;
    } else {
      this.misses++;
      // allocUnsafeSlow: a standalone allocation, never a slice of Node's shared slab, so that a
      // pooled buffer never pins unrelated memory.
      buf = Buffer.allocUnsafeSlow(cls >= 0 ? this.minClassBytes * 2 ** cls : size);
    }
    this.leased.add(buf);
    return buf;
  }

  /** Gives a buffer back. Releasing a buffer twice, or one the pool never lent, is a bug and throws. */
  release(buf: Buffer): void {
    if (!this.leased.delete(buf)) {
      throw new Error("BufferPool.release: buffer is not leased (released twice, or not from this pool)");
    }
    const cls = this.classOf(buf.length);
    const list = cls >= 0 && this.minClassBytes * 2 ** cls === buf.length ? this.free[cls] : undefined;
    if (
      this.enabled &&
      list &&
      list.length < this.maxPerClass &&
      this.pooledBytes + buf.length <= this.maxPooledBytes
    ) {
      list.push(buf);
      this.pooledBytes += buf.length;
      this.returned++;
    } else {
      this.dropped++;
    }
  }

  /** Runs `fn` with a leased buffer and always releases it. */
  async with<T>(size: number, fn: (buf: Buffer) => Promise<T>): Promise<T> {
    const buf = this.acquire(size);
    try {
      return await fn(buf);
    } finally {
      this.release(buf);
    }
  }

  /** Applies `[optimization.memory_pool]` at run time; shrinking trims the free lists at once. */
  configure(options: { enabled: boolean; maxPerClass: number }): void {
    this.enabled = options.enabled;
    this.maxPerClass = options.maxPerClass;
    const keep = options.enabled ? options.maxPerClass : 0;
    for (const list of this.free) {
      while (list.length > keep) {
        const buf = list.pop();
        if (buf) this.pooledBytes -= buf.length;
      }
    }
  }

  stats(): MemoryPoolStats {
    return {
      enabled: this.enabled,
      pooled: this.free.reduce((n, list) => n + list.length, 0),
      pooledBytes: this.pooledBytes,
      capacity: this.enabled ? this.maxPerClass * this.free.length : 0,
      hits: this.hits,
      misses: this.misses,
      returned: this.returned,
      dropped: this.dropped,
      leased: this.leased.size,
    };
  }
}
