/**
 * The short CI version of `npm run stress`: a few clients, a few hundred calls, the same checks
 * (no protocol error, no unexpected tool error, every client's files match its log). The latency
 * bound and the RSS comparison live in the full run (docs/reliability.md), not in a timed test.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeSandbox, startDaemon } from "../../scripts/reliability/harness.js";
import { runStress, seedWorkspace, type StressOptions } from "../../scripts/reliability/stress-core.js";

test(
  "stress (short): concurrent reads, greps, edits, patches and commands lose nothing",
  { timeout: 120_000 },
  async () => {
    const sb = await makeSandbox({ toml: '[tools.policies]\nrun_terminal_cmd = "allow"\n' });
    const o: StressOptions = {
      clients: 6,
      callsPerClient: 60,
      filesPerClient: 3,
      linesPerFile: 20,
      sharedFiles: 5,
      seed: 7,
    };
    try {
      await seedWorkspace(sb, o);
      const d = await startDaemon(sb);
      try {
        const r = await runStress(sb, d.pid, o);
        assert.deepEqual(r.firstErrors, []);
        assert.equal(r.protocolErrors, 0);
        assert.equal(r.toolErrors, 0);
        assert.equal(r.mismatchedReads, 0);
        assert.equal(r.lostOrTornFiles, 0);
        assert.equal(r.calls, o.clients * o.callsPerClient);
        // Every kind of call in the mix ran, so the checks above covered all of them.
        assert.deepEqual(Object.keys(r.perOp).sort(), [
          "cmd",
          "edit",
          "grep",
          "list",
          "patch",
          "read_own",
          "read_shared",
          "write",
        ]);
        assert.ok(
          r.fds.end !== undefined && r.fds.start !== undefined && r.fds.end <= r.fds.start + 4,
          `fds ${r.fds.start} → ${r.fds.end}`,
        );
      } finally {
        assert.equal(await d.stop(10_000), 0, "the daemon exits 0 on SIGTERM after the load");
      }
    } finally {
      await sb.remove();
    }
  },
);
