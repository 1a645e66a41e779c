/**
 * grep_file's match semantics against ripgrep's on the same tree and the equivalent flags.
 * toold reports one result per match, so each rg submatch is one (path, line, column) and the
 * two sets must be equal. rg's byte offsets are converted to toold's UTF-16 columns.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";
import { writeSearchTree } from "../fixtures/search-tree.js";

const RG = "/usr/bin/rg";
const rgAvailable = spawnSync(RG, ["--version"]).status === 0;
const skip = rgAvailable ? false : `ripgrep not found at ${RG}; install ripgrep to run the parity test`;

interface Query {
  pattern: string;
  path?: string;
  literal?: boolean;
  case_sensitive?: boolean;
  glob_pattern?: string;
  word_boundaries?: boolean;
  include_hidden?: boolean;
  respect_ignore_files?: boolean;
  type?: string | string[];
  exclude?: string | string[];
  invert_match?: boolean;
  max_file_size?: number;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function rgFlags(q: Query): string[] {
  // --no-require-git: toold applies .gitignore with or without a .git (docs/tools.md).
  const flags = ["--json", "--no-config", "--no-require-git"];
  if (q.literal) flags.push("-F");
  flags.push(q.case_sensitive === undefined ? "-S" : q.case_sensitive ? "-s" : "-i");
  if (q.word_boundaries) flags.push("-w");
  if (q.glob_pattern) flags.push("-g", q.glob_pattern);
  for (const g of list(q.exclude)) flags.push("-g", `!${g}`);
  for (const t of list(q.type)) flags.push("-t", t);
  if (q.invert_match) flags.push("-v");
  if (q.max_file_size !== undefined) flags.push("--max-filesize", String(q.max_file_size));
  // rg --hidden enters .git; toold never does.
  if (q.include_hidden) flags.push("--hidden", "-g", "!.git");
  if (q.respect_ignore_files === false) flags.push("--no-ignore");
  flags.push("-e", q.pattern);
  // An explicit path: without one rg would read its (piped) stdin.
  flags.push("--", q.path ?? ".");
  return flags;
}

/**
 * rg matches -g globs against paths relative to its working directory, toold against paths
 * relative to the searched folder: with both a folder and a glob, rg runs inside that folder.
 */
function rgRun(
  root: string,
  q: Query,
  extra: string[] = [],
  json = true,
): { stdout: string; prefix: string } {
  const inside = q.path !== undefined && (q.glob_pattern !== undefined || q.exclude !== undefined);
  const flags = rgFlags(inside ? { ...q, path: "." } : q).filter((f) => json || f !== "--json");
  const run = spawnSync(RG, [...extra, ...flags], {
    cwd: inside ? path.join(root, q.path!) : root,
    encoding: "utf8",
  });
  if (run.status !== 0 && run.status !== 1) throw new Error(`rg failed (${run.status}): ${run.stderr}`);
  return { stdout: run.stdout, prefix: inside ? `${q.path}/` : "" };
}

function rgMatches(root: string, q: Query): string[] {
  const run = rgRun(root, q);
  const out: string[] = [];
  for (const line of run.stdout.split("\n")) {
    if (!line) continue;
    const msg = JSON.parse(line) as {
      type: string;
      data: {
        path: { text: string };
        line_number: number;
        lines: { text?: string; bytes?: string };
        submatches: { start: number }[];
      };
    };
    if (msg.type !== "match") continue;
    const bytes =
      msg.data.lines.text !== undefined
        ? Buffer.from(msg.data.lines.text)
        : Buffer.from(msg.data.lines.bytes!, "base64");
    // -v: a line that does not match has no submatches; toold reports it at column 1.
    if (q.invert_match) {
      out.push(`${run.prefix}${msg.data.path.text.replace(/^\.\//, "")}:${msg.data.line_number}:1`);
      continue;
    }
    for (const sub of msg.data.submatches) {
      const column = bytes.subarray(0, sub.start).toString("utf8").length + 1;
      out.push(`${run.prefix}${msg.data.path.text.replace(/^\.\//, "")}:${msg.data.line_number}:${column}`);
    }
  }
  return out.sort();
}

function rgFiles(root: string, q: Query): string[] {
  const run = rgRun(root, q, ["-l"], false);
  return run.stdout
    .split("\n")
    .filter(Boolean)
    .map((p) => run.prefix + p.replace(/^\.\//, ""))
    .sort();
}

const QUERIES: Query[] = [
  { pattern: "foo" },
  { pattern: "Foo" },
  { pattern: "FOO", case_sensitive: false },
  { pattern: "foo", case_sensitive: true },
  { pattern: "foo.", literal: true },
  { pattern: "foo.", literal: false },
  { pattern: "foo()", literal: true },
  { pattern: "f\\w+" },
  { pattern: "\\w+o\\s" },
  { pattern: "[^\\s]foo" },
  { pattern: "^foo" },
  { pattern: "foo$" },
  { pattern: "o" },
  { pattern: "école" },
  { pattern: "ÉCOLE" },
  { pattern: "[[:upper:]]+", case_sensitive: true },
  { pattern: "foo|bar" },
  { pattern: "(?i)BAR" },
  { pattern: "\\p{Greek}" },
  { pattern: "😀" },
  { pattern: "\\d+" },
  { pattern: "[a-z]+_" },
  // Not `-w f?oo`: on a line starting "foo ", rg 13's -w fast path trims the first character of
  // a match at a line start and reports "oo" (column 2); toold reports "foo" (column 1).
  { pattern: "foo", glob_pattern: "!src/**" },
  { pattern: "foo", glob_pattern: "**/nested/**" },
  { pattern: "foo", word_boundaries: true },
  { pattern: "foo\\w*", word_boundaries: true },
  { pattern: "foo", glob_pattern: "*.txt" },
  { pattern: "foo", glob_pattern: "*.log" },
  { pattern: "foo", glob_pattern: "src/**" },
  { pattern: "foo", glob_pattern: "!*.md" },
  { pattern: "foo", glob_pattern: "*.{ts,md}" },
  { pattern: "foo", glob_pattern: ".env" },
  { pattern: "foo", include_hidden: true },
  { pattern: "foo", respect_ignore_files: false },
  { pattern: "foo", respect_ignore_files: false, include_hidden: true },
  { pattern: "foo", path: "src" },
  // A folder the root's .gitignore excludes, named: its files are searched unless a rule names them.
  { pattern: "foo", path: "build" },
  // pkg/.gitignore re-includes pkg/build, which the root's "build/" excludes.
  { pattern: "foo", path: "pkg" },
  { pattern: "foo", path: "docs/sub" },
  { pattern: "foo", path: "src", glob_pattern: "nested/*" },
  { pattern: "foo", path: "src/crlf.txt" },
  // issue #11: rg -t, -g '!…', -v, --max-filesize
  { pattern: "foo", type: "ts" },
  { pattern: "foo", type: ["md", "txt"] },
  { pattern: "foo", type: "txt", include_hidden: true },
  { pattern: "foo", type: "ts", glob_pattern: "*.md" },
  { pattern: "foo", exclude: "*.md" },
  { pattern: "foo", exclude: ["src/**", "*.txt"] },
  { pattern: "foo", exclude: "nested/", path: "src" },
  { pattern: "foo", glob_pattern: "*.txt", exclude: "a/**" },
  { pattern: "foo", invert_match: true },
  { pattern: "^foo", invert_match: true, type: "ts" },
  { pattern: "second", invert_match: true, path: "src/crlf.txt" },
  { pattern: "foo", max_file_size: 20 },
  { pattern: "foo", max_file_size: 14 },
  { pattern: "Foo|foo", type: "md", case_sensitive: false },
];

describe("grep_file matches what ripgrep matches", { skip }, () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await makeTestWorkspace();
    await writeSearchTree(ws.root, `${ws.root}-outside`);
    // UTF-16 with a byte order mark: rg transcodes it (its NUL bytes do not make it binary).
    const utf16 = "\ufeffFoo in UTF-16 foo\nπ foo 😀foo\n";
    await ws.write({
      "src/utf16le.txt": Buffer.from(utf16, "utf16le"),
      "src/utf16be.txt": Buffer.from(utf16, "utf16le").swap16(),
      // No mark: binary to rg too.
      "src/utf16-nobom.txt": Buffer.from(utf16.slice(1), "utf16le"),
      "pkg/build/sub/deep.txt": "foo below a re-included folder\n",
      // rg's own ignore file, above .ignore and .gitignore.
      "docs/sub/.rgignore": "!page.md\n",
      "src/nested/.rgignore": "b.txt\n!a.tmp\n",
    });
  });
  after(async () => {
    await ws.cleanup();
    execFileSync("rm", ["-rf", `${ws.root}-outside`]);
  });

  for (const q of QUERIES) {
    it(`same (path, line, column) set: ${JSON.stringify(q)}`, async () => {
      const res = await ws.call("grep_file", { ...q, max_results: 10_000 });
      assert.ok(!res.isError, JSON.stringify(res.content));
      const sc = res.structuredContent as {
        results: { path: string; line: number; column: number }[];
        truncated: boolean;
      };
      assert.equal(sc.truncated, false);
      const ours = sc.results.map((r) => `${r.path}:${r.line}:${r.column}`).sort();
      const theirs = rgMatches(ws.root, q);
      assert.ok(theirs.length > 0 || q.pattern === "", "the query should match something in the fixture");
      assert.deepEqual(ours, theirs);
    });
  }

  for (const q of QUERIES.slice(0, 8).concat(
    QUERIES.filter((x) => x.glob_pattern || x.include_hidden || x.path),
  )) {
    it(`same files as rg -l: ${JSON.stringify(q)}`, async () => {
      const res = await ws.call("grep_file", { ...q, files_with_matches: true, max_results: 10_000 });
      const files = (res.structuredContent as { files: string[] }).files;
      assert.deepEqual([...files].sort(), rgFiles(ws.root, q));
    });
  }

  for (const q of [
    { pattern: "f\\w+" },
    { pattern: "foo.", literal: false, type: "ts" },
    { pattern: "[A-Z]+", case_sensitive: true },
    { pattern: "école|😀" },
  ] as Query[]) {
    it(`only_matching gives rg -o's texts: ${JSON.stringify(q)}`, async () => {
      const res = await ws.call("grep_file", { ...q, only_matching: true, max_results: 10_000 });
      const ours = (
        res.structuredContent as { results: { path: string; line: number; column: number; text: string }[] }
      ).results
        .map((r) => `${r.path}:${r.line}:${r.text}`)
        .sort();
      const run = rgRun(ws.root, q, ["-o", "-n", "--no-heading", "--with-filename"], false);
      const theirs = run.stdout
        .split("\n")
        .filter(Boolean)
        .map((l) => l.replace(/^\.\//, "").replace(/\r$/, ""))
        .sort();
      assert.ok(theirs.length > 0);
      assert.deepEqual(ours, theirs);
    });
  }

  it("an unknown type is a clear error naming the nearest", async () => {
    const res = await ws.call("grep_file", { pattern: "foo", type: "pyton" });
    assert.equal(res.isError, true);
    assert.match(res.content[0]!.text, /unknown file type "pyton".*nearest: py/);
    // The full names agents send are accepted.
    const ts = await ws.call("grep_file", { pattern: "foo", type: "typescript", files_with_matches: true });
    assert.deepEqual(
      (ts.structuredContent as { files: string[] }).files,
      rgFiles(ws.root, { pattern: "foo", type: "ts" }),
    );
  });

  it("never searches through the symlinks (rg does not follow them either)", async () => {
    const res = await ws.call("grep_file", {
      pattern: "outside the workspace",
      include_hidden: true,
      respect_ignore_files: false,
    });
    assert.equal((res.structuredContent as { total_matches: number }).total_matches, 0);
    assert.deepEqual(
      rgMatches(ws.root, {
        pattern: "outside the workspace",
        include_hidden: true,
        respect_ignore_files: false,
      }),
      [],
    );
  });
});
