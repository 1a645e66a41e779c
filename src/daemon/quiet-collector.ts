/**
 * Collects the garbage of a burst of work once the daemon goes quiet. A burst of large searches
 * leaves tens of MB of dead objects (decoded lines, answers) in V8's heap; V8 gives them back on
 * its own only when its memory reducer runs, ~20 s later, and until then the daemon's RSS carries
 * them (row g of docs/benchmarks.md). One full collection at the first quiet moment returns them,
 * for a pause (tens of ms) that starts when no call runs (one arriving during it waits for it).
 */
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { Logger } from "pino";

export interface QuietCollectorOptions {
  /** Quiet this long after the last call, the collector looks at the heap. Default 1000. */
  readonly quietMs?: number;
  /** It collects only when the heap grew this much since the last collection. Default 32 MiB. */
  readonly minGrowthBytes?: number;
  /** True while a call runs: the collection waits for the next quiet moment. */
  readonly busy: () => boolean;
  /** Bytes in V8's heap, live and dead (tests inject it). */
  readonly heapUsed?: () => number;
  /** One full collection (tests inject it); default: V8's `gc`, exposed on first use. */
  readonly collect?: () => void;
  readonly log?: Logger;
}

/** V8's `gc` function, exposed at run time so that no start command has to pass `--expose-gc`. */
function exposedGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

export class QuietCollector {
  private readonly quietMs: number;
  private readonly minGrowthBytes: number;
  private readonly heapUsed: () => number;
  private collect: (() => void) | undefined;
  private lastWorkAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private heapAfterCollection: number;
  /** Collections made so far. */
  collections = 0;

  constructor(private readonly options: QuietCollectorOptions) {
    this.quietMs = options.quietMs ?? 1000;
    this.minGrowthBytes = options.minGrowthBytes ?? 32 * 1024 * 1024;
    this.heapUsed = options.heapUsed ?? (() => getHeapStatistics().used_heap_size);
    this.collect = options.collect;
    this.heapAfterCollection = this.heapUsed();
  }

  /** A call ended. Cheap: one clock read, and a timer only when none is armed. */
  noteWork(): void {
    this.lastWorkAt = performance.now();
    if (!this.timer) this.arm(this.quietMs);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(() => this.check(), ms);
    this.timer.unref();
  }

  private check(): void {
    this.timer = undefined;
    const quietFor = performance.now() - this.lastWorkAt;
    if (quietFor < this.quietMs || this.options.busy()) {
      this.arm(Math.max(this.quietMs - quietFor, 50));
      return;
    }
    const before = this.heapUsed();
    if (before - this.heapAfterCollection < this.minGrowthBytes) return;
    try {
      this.collect ??= exposedGc();
    } catch (err) {
      // Without `gc`, V8's own memory reducer still runs later; nothing else depends on this.
      this.options.log?.debug({ err }, "no gc function: quiet collections are off");
      this.collect = () => {};
    }
    const started = performance.now();
    this.collect();
    this.heapAfterCollection = this.heapUsed();
    this.collections++;
    this.options.log?.debug(
      { heapBefore: before, heapAfter: this.heapAfterCollection, pauseMs: performance.now() - started },
      "collected garbage at a quiet moment",
    );
  }
}
