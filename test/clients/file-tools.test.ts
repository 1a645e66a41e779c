/**
 * Issue #11 tried as a new user would: every new argument and tool through `toold call` (the real
 * CLI and daemon) and through the MCP SDK's own client on `toold mcp`.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { CLI, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const FILES = {
  "notes.txt": "alpha\nbeta\ngamma\n",
  "src/app.ts": "export function main() {\n  return 1;\n}\n",
  "src/other.ts": "function helper(a: number) {\n  return a;\n}\n",
};

/** Each new tool and argument, once: [tool, arguments, what the text must show]. */
const CALLS: [string, Record<string, unknown>, RegExp][] = [
  ["read_file", { path: "notes.txt", head: 1 }, /^alpha\n$/],
  ["read_file", { path: "notes.txt", tail: 1, line_numbers: true }, /^L3: gamma\n$/],
  ["read_file", { path: "notes.txt", max_line_chars: 2 }, /^al … \[line 1 cut: 2 of 5 characters shown/],
  [
    "read_file",
    {
      reads: [
        { path: "notes.txt", limit: 1 },
        { path: "src/app.ts", head: 1 },
      ],
    },
    /==> notes\.txt <==\nalpha\n\n==> src\/app\.ts <==\nexport function main/,
  ],
  ["write_file", { file_path: "w.txt", contents: "written\n", overwrite: false }, /^Created w\.txt/],
  [
    "edit_file",
    { path: "w.txt", original: "written", replacement: "edited", dry_run: true },
    /^Dry run, nothing written/,
  ],
  [
    "edit_file",
    { path: "w.txt", edits: [{ old_str: "L1: written", new_str: "L1: edited" }] },
    /^Edited w\.txt: 1 replacement/,
  ],
  ["create_directory", { path: "made/deeper" }, /^Created folder made\/deeper/],
  ["copy_file", { source: "w.txt", destination: "made/w2.txt" }, /^Copied w\.txt/],
  [
    "move_file",
    { source: "made/w2.txt", destination: "made/deeper/w3.txt" },
    /^Moved file made\/w2\.txt to made\/deeper\/w3\.txt/,
  ],
  ["file_info", { path: "made/deeper/w3.txt" }, /^made\/deeper\/w3\.txt: file, 7 bytes, .*1 lines, sha256 /],
  [
    "code_search",
    { pattern: "function $NAME($$$) { $$$ }" },
    /^src\/app\.ts:1:8: export function main\(\) \{\nsrc\/other\.ts:1:1: function helper/,
  ],
];

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

describe("the file tools of issue #11 from the CLI and from MCP", () => {
  let d: TestDaemon;
  let mcp: Client;
  before(async () => {
    d = await makeTestDaemon({ files: FILES });
    mcp = new Client({ name: "file-tools-test", version: "0" });
    await mcp.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp", "--workspace", d.root, "--socket", d.socket],
        env: d.env as Record<string, string>,
        stderr: "pipe",
      }),
    );
  });
  after(async () => {
    await mcp?.close();
    await d.cleanup();
  });

  it("`toold call` runs each new argument and tool", async () => {
    for (const [tool, args, pattern] of CALLS) {
      const r = await d.cli(["call", tool, JSON.stringify(args)]);
      assert.equal(r.code, 0, `${tool} ${JSON.stringify(args)}: ${r.stderr}`);
      assert.match(r.stdout, pattern, `${tool} ${JSON.stringify(args)}`);
    }
    assert.equal(await readFile(path.join(d.root, "made/deeper/w3.txt"), "utf8"), "edited\n");
  });

  it("the MCP SDK client runs them too", async () => {
    await d.cli(["call", "delete_file", '{"path":"made","recursive":true}', "--yes"]);
    await d.cli(["call", "delete_file", '{"path":"w.txt"}', "--yes"]);
    for (const [tool, args, pattern] of CALLS) {
      const r = (await mcp.callTool({ name: tool, arguments: args })) as CallToolResult;
      assert.equal(r.isError, undefined, `${tool}: ${text(r)}`);
      assert.match(text(r), pattern, `${tool} ${JSON.stringify(args)}`);
    }
  });

  it("`toold tools` shows the aliases among read_file's arguments", async () => {
    const r = await d.cli(["tools", "read_file"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^read_file\n/);
    assert.match(r.stdout, /\n {2}file_path: string\n {6}Alias of `path` \(give one of them\)\./);
    assert.match(r.stdout, /\n {2}reads: /);
  });

  it("MCP lists aliases and enum values in the schemas, so validating hosts accept them", async () => {
    const { tools } = await mcp.listTools();
    const write = tools.find((t) => t.name === "write_file")!.inputSchema as {
      properties: Record<string, { enum?: string[] }>;
    };
    for (const name of ["file_path", "contents", "text", "data", "write_mode", "overwrite"])
      assert.ok(write.properties[name], name);
    assert.deepEqual(write.properties.mode!.enum, [
      "overwrite",
      "fail_if_exists",
      "append",
      "skip_if_exists",
    ]);
    assert.ok(tools.some((t) => t.name === "code_search"));
  });

  it("over MCP bad arguments are an isError result naming each, the accepted names and an example; the socket keeps -32602 and the CLI exit 2", async () => {
    const r = (await mcp.callTool({
      name: "read_file",
      arguments: { pth: "notes.txt", limit: 0 },
    })) as CallToolResult;
    assert.equal(r.isError, true);
    assert.match(text(r), /unknown argument "pth" \(did you mean "path"\?\)/);
    assert.match(text(r), /limit: expected integer to be greater or equal to 1 \(got 0\)/);
    assert.match(
      text(r),
      /Accepted: path, offset, limit, head, tail, line_numbers, max_line_chars, max_bytes, reads, file_path/,
    );
    assert.match(text(r), /Example: \{"path":"src\/main\.ts"/);
    const data = (r.structuredContent as { invalid_arguments: { errors: { argument: string }[] } })
      .invalid_arguments;
    assert.deepEqual(new Set(data.errors.map((e) => e.argument)), new Set(["pth", "limit"]));
    const pattern = (await mcp.callTool({
      name: "code_search",
      arguments: { pattern: "foo(" },
    })) as CallToolResult;
    assert.equal(pattern.isError, true);
    assert.match(text(pattern), /does not parse in any supported language/);
    const cli = await d.cli(["call", "read_file", "pth=notes.txt"]);
    assert.equal(cli.code, 2);
    assert.match(cli.stderr, /unknown argument "pth" \(did you mean "path"\?\)/);
    await assert.rejects(mcp.callTool({ name: "no_such_tool", arguments: {} }), /no_such_tool/);
  });
});
