/**
 * `npm run stress`: load test of the real compiled daemon (run `npm run build` first).
 *
 *   npm run stress -- [--clients 32] [--calls 2000] [--seed 1] [--max-ms 5000] [--json] [--keep]
 *   npm run stress -- --soak-minutes 10 [--sample-secs 10]
 *
 * Pass (exit 0): zero protocol errors, zero unexpected tool errors, zero lost or torn edits, no
 * call slower than --max-ms, and daemon RSS after the run within --rss-slack-mb (or 50 %) of the
 * RSS after warm-up. Soak mode samples RSS, heap, open fds and active handles over time and
 * fails when fds grow or RSS keeps rising through the second half of the run.
 */
import { parseArgs } from "node:util";
import {
  endRun,
  intFlag,
  makeSandbox,
  mb,
  REPORT_FLAGS,
  runScript,
  startDaemon,
} from "./reliability/harness.js";
import {
  formatSample,
  MIX,
  runStress,
  seedWorkspace,
  type StressOptions,
} from "./reliability/stress-core.js";

const STRESS_TOML = `# written by scripts/stress.ts
[tools.policies]
run_terminal_cmd = "allow"
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      clients: { type: "string" },
      calls: { type: "string" },
      seed: { type: "string" },
      "max-ms": { type: "string" },
      "rss-slack-mb": { type: "string" },
      "soak-minutes": { type: "string" },
      "sample-secs": { type: "string" },
      ...REPORT_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      "usage: npm run stress -- [--clients N] [--calls N] [--seed N] [--max-ms MS] [--rss-slack-mb MB] [--soak-minutes N] [--sample-secs N] [--json] [--keep]\n",
    );
    return 0;
  }
  const soakMinutes = values["soak-minutes"] === undefined ? undefined : Number(values["soak-minutes"]);
  if (soakMinutes !== undefined && !(soakMinutes > 0)) {
    process.stderr.write(
      `stress: --soak-minutes must be a number > 0 (got ${JSON.stringify(values["soak-minutes"])})\n`,
    );
    return 2;
  }
  const o: StressOptions = {
    clients: intFlag("stress", values.clients, "clients", 32),
    callsPerClient: intFlag("stress", values.calls, "calls", 2000),
    filesPerClient: 4,
    linesPerFile: 40,
    sharedFiles: 20,
    seed: intFlag("stress", values.seed, "seed", 1, 0),
    ...(soakMinutes !== undefined ? { soakMs: soakMinutes * 60_000 } : {}),
    sampleEveryMs:
      intFlag("stress", values["sample-secs"], "sample-secs", soakMinutes !== undefined ? 10 : 5) * 1000,
  };
  const maxMs = intFlag("stress", values["max-ms"], "max-ms", 5000);
  const rssSlackMb = intFlag("stress", values["rss-slack-mb"], "rss-slack-mb", 64, 0);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const sb = await makeSandbox({ toml: STRESS_TOML, prefix: "toold-stress-" });
  await seedWorkspace(sb, o);
  const daemon = await startDaemon(sb);
  log(
    `stress: daemon pid ${daemon.pid}, workspace ${sb.root}; ${o.clients} clients × ${soakMinutes !== undefined ? `${soakMinutes} min` : `${o.callsPerClient} calls`}, seed ${o.seed}; mix ${JSON.stringify(MIX)}`,
  );
  let report;
  try {
    report = await runStress(sb, daemon.pid, {
      ...o,
      onProgress: (done, total) => log(`  ${done}/${total} calls`),
      ...(soakMinutes !== undefined ? { onSample: (s) => log(`  ${formatSample(s)}`) } : {}),
    });
  } finally {
    await endRun("stress", daemon, sb, values.keep, log);
  }

  const failures: string[] = [];
  if (report.protocolErrors > 0) failures.push(`${report.protocolErrors} protocol errors`);
  if (report.toolErrors > 0) failures.push(`${report.toolErrors} unexpected tool errors`);
  if (report.mismatchedReads > 0)
    failures.push(`${report.mismatchedReads} reads differed from the client's log`);
  if (report.lostOrTornFiles > 0) failures.push(`${report.lostOrTornFiles} files lost or torn`);
  if (report.latencyMs.max > maxMs)
    failures.push(`slowest call ${report.latencyMs.max} ms > bound ${maxMs} ms`);
  const { startBytes, endBytes } = report.rss;
  const rssLimit =
    startBytes === undefined ? undefined : startBytes + Math.max(rssSlackMb * 1048576, startBytes * 0.5);
  if (rssLimit !== undefined && endBytes !== undefined && endBytes > rssLimit) {
    failures.push(`RSS after the run ${mb(endBytes)} > start ${mb(startBytes)} + slack (${mb(rssLimit)})`);
  }
  if (
    report.fds.start !== undefined &&
    report.fds.end !== undefined &&
    report.fds.end > report.fds.start + 4
  ) {
    failures.push(`open fds grew from ${report.fds.start} to ${report.fds.end}`);
  }
  if (soakMinutes !== undefined) {
    // A leak is growth that keeps going: compare the middle of the run with its end.
    const s = report.samples.filter((x) => x.rssBytes !== undefined);
    const mid = s[Math.floor(s.length / 2)]?.rssBytes;
    const last = s[s.length - 2]?.rssBytes; // the last sample under load
    if (mid !== undefined && last !== undefined && last > mid * 1.25 + 16 * 1048576) {
      failures.push(`RSS kept growing under load: ${mb(mid)} at mid-run → ${mb(last)} at the end`);
    }
  }

  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...report, maxMsBound: maxMs, pass: failures.length === 0, failures }, null, 2)}\n`,
    );
  } else {
    const lines = [
      `clients ${report.clients}, calls ${report.calls} in ${(report.wallMs / 1000).toFixed(1)} s = ${report.callsPerSec} calls/s`,
      `latency ms: p50 ${report.latencyMs.p50}, p99 ${report.latencyMs.p99}, max ${report.latencyMs.max} (bound ${maxMs})`,
      ...Object.entries(report.perOp).map(
        ([op, v]) =>
          `  ${op.padEnd(12)} ${String(v.calls).padStart(7)} calls  p50 ${v.p50}  p99 ${v.p99}  max ${v.max}`,
      ),
      `grep via: ${report.grepTool}`,
      `errors: protocol ${report.protocolErrors}, tool ${report.toolErrors}, mismatched reads ${report.mismatchedReads}, lost/torn files ${report.lostOrTornFiles}`,
      `daemon RSS: after warm-up ${mb(startBytes)}, peak ${mb(report.rss.peakBytes)}, after the run ${mb(endBytes)}; fds ${report.fds.start ?? "?"} → ${report.fds.end ?? "?"}`,
      ...report.firstErrors.map((e) => `  ! ${e}`),
      failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

runScript("stress", main);
