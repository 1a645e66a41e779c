/**
 * A one-off `toold call` stays lean: it loads the client and Node's built-ins, never the daemon's
 * libraries (vscode-jsonrpc, pino, typebox, …) nor the MCP SDK. Checked by tracing every module the
 * real compiled CLI resolves. (How fast it is, is the benchmark's business.)
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const HEAVY = [
  "vscode-jsonrpc",
  "pino",
  "@sinclair/typebox",
  "@modelcontextprotocol",
  "hdr-histogram-js",
  "smol-toml",
  "zod",
];

describe("toold call's module footprint", () => {
  let d: TestDaemon;
  before(async () => {
    d = await makeTestDaemon({ files: { "a.txt": "lean\n" } });
    assert.equal((await d.cli(["start"])).code, 0);
  });
  after(() => d.cleanup());

  it("loads no heavy dependency", async () => {
    const trace = path.join(d.runDir, "imports.txt");
    const hook = path.join(REPO_ROOT, "test/clients/fixtures/trace-imports.mjs");
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        ["--import", hook, ...d.cliArgv(["call", "read_file", "path=a.txt"])],
        { env: { ...d.env, TOOLD_TRACE_IMPORTS: trace } },
        (err, out) => (err ? reject(err) : resolve(out)),
      ),
    );
    assert.equal(stdout, "lean\n");
    const loaded = (await readFile(trace, "utf8")).split("\n").filter(Boolean);
    assert.ok(
      loaded.some((u) => u.endsWith("/dist/client/peer.js")),
      "the trace sees the CLI's own modules",
    );
    const heavy = loaded.filter(
      (u) => u.includes("/node_modules/") && HEAVY.some((h) => u.includes(`/node_modules/${h}/`)),
    );
    assert.deepEqual(heavy, []);
    const daemonSide = loaded.filter((u) => /\/dist\/(daemon|dispatch|tools|config)\//.test(u));
    assert.deepEqual(daemonSide, []);
  });
});
