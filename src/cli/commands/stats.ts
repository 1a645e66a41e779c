/**
 * `toold stats [--json | --prometheus] [--watch [--interval SECS]]`. Watching keeps one connection
 * (reconnecting if the daemon restarts) and redraws in place on a terminal; piped, it writes one
 * frame after another (one JSON object per line with --json) so it can feed other programs.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { ToolDClient, type StatsResult } from "../../client/index.js";
import {
  connectOptions,
  EXIT,
  positiveNumber,
  untilInterrupted,
  UsageError,
  withClient,
  type Command,
} from "../command.js";
import { formatPrometheus, formatStatsTable } from "../format.js";

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

export const stats: Command = {
  name: "stats",
  usage: "stats [--json | --prometheus] [--watch [--interval SECS] [--count N]]",
  summary: "the daemon's statistics: calls, latency, hot cache, memory pool, file cache, memory",
  details:
    "Starts the daemon when none answers (unless --no-start). With --watch, redraws until Ctrl-C;\nif the daemon stops meanwhile, it says so and reconnects when one is back (it does not restart it).",
  options: {
    json: { type: "boolean", description: "print JSON (with --watch: one object per line)" },
    prometheus: { type: "boolean", description: "print the Prometheus text exposition" },
    watch: { type: "boolean", short: "w", description: "redraw every --interval seconds until Ctrl-C" },
    interval: {
      type: "string",
      value: "SECS",
      description: "seconds between frames with --watch (default 2)",
    },
    count: { type: "string", value: "N", description: "stop after N frames" },
  },
  examples: ["toold stats", "toold stats --watch", "toold stats --prometheus > toold.prom"],
  async run({ values, globals }) {
    if (values.json === true && values.prometheus === true)
      throw new UsageError("stats takes --json or --prometheus, not both");
    const interval = positiveNumber(values.interval, "--interval", 2);
    const count = positiveNumber(values.count, "--count", Infinity);
    // Started here like `tools`; the watch's own reconnects never start one (a `toold stop`
    // while watching must stay stopped).
    if (!globals.noStart) await withClient(globals, true, async () => undefined);
    await untilInterrupted((signal) =>
      runStats({
        connect: () => ToolDClient.connect({ ...connectOptions(globals), autoStart: false, reconnect: true }),
        format: values.prometheus === true ? "prometheus" : values.json === true ? "json" : "table",
        watch: values.watch === true,
        intervalMs: interval * 1000,
        count,
        signal,
        out: process.stdout,
        errors: process.stderr,
      }),
    );
    return EXIT.ok;
  },
};
