/** Daemon statistics: counters plus one latency histogram (hdr-histogram-js) per tool. */
import * as hdr from "hdr-histogram-js";
import type { LatencySummary } from "../protocol/methods.js";

interface ToolCounters {
  calls: number;
  errors: number;
  sumMs: number;
  /** Microseconds, 1 µs to 1 h at 3 significant digits. */
  histogram: hdr.Histogram;
}

export class Stats {
  readonly startedAt = Date.now();
  connectionsActive = 0;
  connectionsTotal = 0;
  requestsTotal = 0;
  requestErrors = 0;
  inFlight = 0;
  private readonly tools = new Map<string, ToolCounters>();

  recordToolCall(tool: string, durationMs: number, isError: boolean): void {
    let counters = this.tools.get(tool);
    if (!counters) {
      counters = {
        calls: 0,
        errors: 0,
        sumMs: 0,
        histogram: hdr.build({
          lowestDiscernibleValue: 1,
          highestTrackableValue: 3_600_000_000,
          numberOfSignificantValueDigits: 3,
        }),
      };
      this.tools.set(tool, counters);
    }
    counters.calls++;
    counters.sumMs += durationMs;
    if (isError) counters.errors++;
    counters.histogram.recordValue(Math.min(Math.max(1, Math.round(durationMs * 1000)), 3_600_000_000));
  }

  toolSummaries(): Record<string, LatencySummary> {
    const out: Record<string, LatencySummary> = {};
    const ms = (us: number) => Math.round(us) / 1000;
    for (const [name, c] of [...this.tools].sort(([a], [b]) => a.localeCompare(b))) {
      out[name] = {
        calls: c.calls,
        errors: c.errors,
        p50Ms: ms(c.histogram.getValueAtPercentile(50)),
        p99Ms: ms(c.histogram.getValueAtPercentile(99)),
        maxMs: ms(c.histogram.maxValue),
        sumMs: Math.round(c.sumMs * 1000) / 1000,
      };
    }
    return out;
  }

  uptimeMs(): number {
    return Date.now() - this.startedAt;
  }
}
