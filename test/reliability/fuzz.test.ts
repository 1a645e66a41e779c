/**
 * The short CI version of `npm run fuzz` (a few thousand cases against the real daemon), plus
 * targeted cases the fuzzer found or must keep covering.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { makeSandbox, sleep, startDaemon } from "../../scripts/reliability/harness.js";
import {
  FUZZ_TOML,
  fuzzFailures,
  prepareFuzzWorkspace,
  runFuzz,
} from "../../scripts/reliability/fuzz-core.js";
import { oneShot, RawConn } from "../../scripts/reliability/wire.js";
import { connect } from "./helpers.js";

test(
  "fuzz (short): the daemon survives bad input, answers every well-formed request, touches nothing outside",
  { timeout: 120_000 },
  async () => {
    const sb = await makeSandbox({ toml: FUZZ_TOML });
    try {
      await prepareFuzzWorkspace(sb);
      const d = await startDaemon(sb);
      try {
        const r = await runFuzz(sb, d.pid, {
          cases: 2500,
          seed: 11,
          workers: 4,
          benignGlobs: true,
          answerTimeoutMs: 20_000,
        });
        assert.deepEqual(fuzzFailures(r), []);
        assert.ok(r.requests.sent > 1000, `well-formed requests sent: ${r.requests.sent}`);
        assert.ok(
          (r.answerCodes["tool_call result"] ?? 0) > 100,
          "tool calls with valid arguments reached the handlers",
        );
        assert.ok(
          r.oversized.sent > 0 && r.byKind.bytes! > 0 && r.byKind.truncated! > 0,
          JSON.stringify(r.byKind),
        );
        assert.ok(r.goodClient.calls > 0);
      } finally {
        assert.equal(await d.stop(10_000), 0);
      }
    } finally {
      await sb.remove();
    }
  },
);

test(
  "framing junk on fresh connections gets JSON-RPC errors, and the daemon keeps serving",
  { timeout: 30_000 },
  async () => {
    const sb = await makeSandbox({ toml: FUZZ_TOML });
    try {
      const d = await startDaemon(sb);
      try {
        const lspHuge = await oneShot(sb.socket, Buffer.from("Content-Length: 99999999\r\n\r\n{"), 3000);
        assert.match(lspHuge, /-32600/);
        assert.match(lspHuge, /max_message_bytes/);
        const ndjsonHuge = await oneShot(sb.socket, Buffer.from(`{"pad":"${"x".repeat(70_000)}"}\n`), 3000);
        assert.match(ndjsonHuge, /-32600/);
        const notJson = await oneShot(sb.socket, Buffer.from("{not json at all\n"), 3000);
        assert.match(notJson, /-32700/);
        const c = await connect(sb);
        assert.equal((await c.status()).pid, d.pid);
        c.close();
      } finally {
        await d.stop(10_000);
      }
    } finally {
      await sb.remove();
    }
  },
);

// Found by `npm run fuzz`: by-position params were spread into the handler's arguments, so the
// second value took the place of the cancellation token and the answer was an internal error.
test(
  "by-position params: [] and [object] are accepted, more values get -32602, never an internal error",
  { timeout: 30_000 },
  async () => {
    const sb = await makeSandbox({ toml: FUZZ_TOML });
    try {
      const d = await startDaemon(sb);
      try {
        for (const framing of ["ndjson", "lsp"] as const) {
          const c = await RawConn.open(sb.socket, framing);
          const ask = async (id: string, params: unknown) => {
            const o = await c.request(
              id,
              JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params }),
              10_000,
            );
            assert.equal(o.kind, "answer", `${framing} ${id}: ${o.kind}`);
            return o.kind === "answer" ? o.answer : undefined;
          };
          const empty = await c.request(
            "list",
            '{"jsonrpc":"2.0","id":"list","method":"tools/list","params":[]}',
            10_000,
          );
          assert.ok(
            empty.kind === "answer" && empty.answer.result !== undefined,
            "an empty array means no params",
          );
          const one = await ask("one", [{ name: "read_file", arguments: { path: "missing.txt" } }]);
          assert.equal(
            (one?.result as { isError?: boolean }).isError,
            true,
            "one object by position is a normal call",
          );
          for (const [id, params] of [
            ["two", [{ name: "read_file" }, [1]]],
            ["none", []],
            ["scalar", [5, "x"]],
          ] as const) {
            const a = await ask(id, params);
            assert.equal(a?.error?.code, -32602, `${framing} ${id}: ${JSON.stringify(a)}`);
          }
          c.close();
        }
        assert.ok(d.isRunning());
      } finally {
        await d.stop(10_000);
      }
    } finally {
      await sb.remove();
    }
  },
);

// Found by `npm run fuzz`: globs compile to backtracking regexes (picomatch), so a crafted
// glob_pattern / name_pattern against a long file name blocks the event loop for every client.
test("a crafted glob against a long file name does not stall the daemon", { timeout: 60_000 }, async () => {
  const sb = await makeSandbox({ toml: FUZZ_TOML });
  try {
    await writeFile(path.join(sb.root, `${"a".repeat(60)}.txt`), "x\n");
    const d = await startDaemon(sb);
    try {
      const c = await connect(sb);
      const call = c
        .callTool("list_files", { path: ".", name_pattern: "*a*a*a*a*a*a*a*a*a*a*a*a*b" })
        .catch(() => undefined);
      void call;
      await sleep(200);
      const probe = await Promise.race([
        c.status().then(() => "answered"),
        sleep(5000).then(() => "stalled"),
      ]);
      assert.equal(probe, "answered", "daemon/status must answer while a glob is being matched");
      c.close();
    } finally {
      await d.stop(2000);
    }
  } finally {
    await sb.remove();
  }
});
