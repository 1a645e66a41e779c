/**
 * `toold stats [--json | --prometheus] [--watch [--interval SECS]]`. Watching keeps one connection
 * (reconnecting if the daemon restarts) and redraws in place on a terminal; piped, it writes one
 * frame after another (one JSON object per line with --json) so it can feed other programs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { StatsResult, ToolDClient } from "../client/index.js";
import { formatPrometheus, formatStatsTable } from "./format.js";

export interface StatsCommand {
  connect: () => Promise<ToolDClient>;
  format: "table" | "json" | "prometheus";
  watch: boolean;
  intervalMs: number;
  /** Frames to draw before returning; Infinity = until `signal` aborts. */
  count: number;
  signal: AbortSignal;
  out: { write(s: string): unknown; isTTY?: boolean };
  errors: { write(s: string): unknown };
}

export function render(stats: StatsResult, format: StatsCommand["format"], pretty: boolean): string {
  if (format === "prometheus") return formatPrometheus(stats);
  if (format === "json") return `${JSON.stringify(stats, null, pretty ? 2 : undefined)}\n`;
  return formatStatsTable(stats);
}

const CLEAR = "\x1b[H\x1b[2J";

export async function runStats(cmd: StatsCommand): Promise<void> {
  const client = await cmd.connect();
  try {
    if (!cmd.watch) {
      cmd.out.write(render(await client.stats(), cmd.format, true));
      return;
    }
    const tty = cmd.out.isTTY === true;
    for (let frame = 0; frame < cmd.count && !cmd.signal.aborted; frame++) {
      let body: string | undefined;
      let problem: string | undefined;
      try {
        body = render(await client.stats(), cmd.format, false);
      } catch (err) {
        // The daemon went away: say so and keep trying; the client reconnects when it is back.
        problem = `toold: daemon unreachable (${(err as Error).message}); retrying every ${cmd.intervalMs / 1000} s\n`;
      }
      if (tty) {
        const head = `toold stats  ${new Date().toLocaleTimeString()}  every ${cmd.intervalMs / 1000} s  (Ctrl-C to stop)\n\n`;
        cmd.out.write(CLEAR + head + (body ?? problem));
      } else if (body !== undefined) {
        cmd.out.write(cmd.format === "table" && frame > 0 ? `\n${body}` : body);
      } else {
        cmd.errors.write(problem ?? ""); // piped: only whole frames on stdout
      }
      if (frame + 1 >= cmd.count) break;
      // Aborting (Ctrl-C) ends the wait at once; the timer keeps no listener behind.
      await sleep(cmd.intervalMs, undefined, { signal: cmd.signal }).catch(() => undefined);
    }
  } finally {
    client.close();
  }
}
