/**
 * `npm run fuzz`: protocol fuzzing of the real compiled daemon (run `npm run build` first).
 *
 *   npm run fuzz -- [--cases 100000] [--seed 1] [--workers 4] [--first-case 0] [--benign-globs] [--json] [--keep]
 *
 * Case n of a run is generated from (seed, n) alone; `--first-case N --cases M` replays cases
 * N..N+M-1 (state the earlier cases left in the workspace is not rebuilt).
 *
 * The daemon runs in a temp workspace whose vtcode.toml denies run_terminal_cmd (fuzzed commands
 * never run) and allows delete_file (deletes are generated only inside the workspace). A folder
 * next to the workspace, reachable through symlinks and `..` paths, is snapshotted before and
 * after. Pass (exit 0): the daemon is the same process at the end, every well-formed request was
 * answered, every oversized frame got -32600, the well-behaved client never failed, and nothing
 * outside the workspace changed.
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
import { CASE_MIX, FUZZ_TOML, fuzzFailures, prepareFuzzWorkspace, runFuzz } from "./reliability/fuzz-core.js";

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      cases: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      "first-case": { type: "string" },
      "benign-globs": { type: "boolean", default: false },
      ...REPORT_FLAGS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      "usage: npm run fuzz -- [--cases N] [--seed N] [--workers N] [--first-case N] [--benign-globs] [--json] [--keep]\n",
    );
    return 0;
  }
  const cases = intFlag("fuzz", values.cases, "cases", 100_000);
  const seed = intFlag("fuzz", values.seed, "seed", 1, 0);
  const workers = intFlag("fuzz", values.workers, "workers", 4);
  const firstCase = intFlag("fuzz", values["first-case"], "first-case", 0, 0);
  const log = (line: string) => process.stderr.write(`${line}\n`);

  const sb = await makeSandbox({ toml: FUZZ_TOML, prefix: "toold-fuzz-" });
  await prepareFuzzWorkspace(sb);
  const daemon = await startDaemon(sb);
  log(
    `fuzz: daemon pid ${daemon.pid}, workspace ${sb.root}; ${cases} cases, seed ${seed}, ${workers} connections; mix ${JSON.stringify(CASE_MIX)}`,
  );
  let report;
  try {
    report = await runFuzz(sb, daemon.pid, {
      cases,
      firstCase,
      seed,
      workers,
      benignGlobs: values["benign-globs"],
      onProgress: (n) => log(`  ${n}/${cases} cases`),
    });
  } finally {
    await endRun("fuzz", daemon, sb, values.keep, log);
  }
  const failures = fuzzFailures(report);
  if (values.json) {
    process.stdout.write(
      `${JSON.stringify({ ...report, seed, pass: failures.length === 0, failures }, null, 2)}\n`,
    );
  } else {
    const lines = [
      `cases ${report.cases} in ${(report.wallMs / 1000).toFixed(1)} s = ${report.casesPerSec}/s; by kind ${JSON.stringify(report.byKind)}`,
      `well-formed requests: sent ${report.requests.sent}, answered ${report.requests.answered}, unanswered ${report.requests.unanswered}, lost to a close ${report.requests.closedBeforeAnswer}`,
      `answers by code: ${JSON.stringify(report.answerCodes)}`,
      `tool results with isError: ${JSON.stringify(report.toolErrorsByTool)}`,
      `oversized frames: ${report.oversized.sent} sent, ${report.oversized.answeredWithError} answered -32600`,
      `too-deep requests: ${report.deep.sent} sent, ${report.deep.answeredInvalidParams} answered -32602; non-reading clients: ${report.nonReadingClients}`,
      `well-behaved client: ${report.goodClient.calls} calls, ${report.goodClient.failures} failures, slowest ${report.goodClient.maxMs} ms`,
      ...(report.stalledAtCase !== undefined
        ? [`STALLED: the daemon stopped answering near case ${report.stalledAtCase}`]
        : []),
      `daemon: alive ${report.daemonAlive}, same pid ${report.samePid}; RSS ${mb(report.rss.startBytes)} → ${mb(report.rss.endBytes)}` +
        (report.end
          ? `; at the end heap ${mb(report.end.heapUsedBytes)}, file cache ${mb(report.end.fileCacheBytes)} in ${report.end.fileCacheEntries} files, ${report.end.activeResources ?? "?"} handles`
          : ""),
      `outside the workspace: ${report.outsideChanged.length === 0 ? "unchanged" : report.outsideChanged.join(", ")}`,
      ...report.internalErrors.map((e) => `  ! internal: ${e}`),
      failures.length === 0 ? "PASS" : `FAIL: ${failures.join("; ")}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  }
  return failures.length === 0 ? 0 : 1;
}

runScript("fuzz", main);
