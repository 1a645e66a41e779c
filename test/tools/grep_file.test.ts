import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { writeSearchTree } from "../fixtures/search-tree.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import { ErrorCodes } from "../../src/protocol/errors.js";
import type { GrepResult } from "../../src/tools/grep_file.js";

interface Structured {
  results: GrepResult[];
  total_matches: number;
  truncated: boolean;
  files_with_matches: number;
  case_sensitive: boolean;
  skipped?: { binary: number };
}

const sc = (r: { structuredContent?: Record<string, unknown> }): Structured =>
  r.structuredContent as unknown as Structured;
const where = (r: { structuredContent?: Record<string, unknown> }): string[] =>
  sc(r).results.map((x) => `${x.path}:${x.line}:${x.column}`);

describe("grep_file", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await makeTestWorkspace();
    await writeSearchTree(ws.root, `${ws.root}-outside`);
  });
  after(async () => {
    await ws.cleanup();
    await rm(`${ws.root}-outside`, { recursive: true, force: true });
  });

  it("reports one result per match with 1-based line and UTF-16 column, sorted by path", async () => {
    const res = await ws.call("grep_file", { pattern: "foo", path: "src/main.ts", case_sensitive: true });
    assert.ok(!res.isError);
    assert.deepEqual(where(res), [
      "src/main.ts:1:17",
      "src/main.ts:2:11",
      "src/main.ts:2:18",
      "src/main.ts:2:35",
      "src/main.ts:4:9",
      "src/main.ts:6:1",
      "src/main.ts:6:5",
      "src/main.ts:6:9",
    ]);
    const first = sc(res).results[0]!;
    assert.equal(first.text, "export function foo(): string {");
    assert.deepEqual(first.before, []);
    assert.deepEqual(first.after, []);
    // the text shows each matching line once
    assert.match(textOf(res), /^src\/main\.ts:6:1:foo foo foo$/m);
    assert.equal(textOf(res).match(/^src\/main\.ts:6:/gm)?.length, 1);
  });

  it("counts columns in UTF-16 code units after astral characters", async () => {
    const res = await ws.call("grep_file", { pattern: "foo", path: "src/unicode.txt" });
    assert.ok(where(res).includes("src/unicode.txt:4:10")); // "emoji 😀 foo": 😀 is two code units
    assert.ok(where(res).includes("src/unicode.txt:4:16"));
  });

  it("is smart-case by default, and case_sensitive overrides it", async () => {
    const lower = await ws.call("grep_file", { pattern: "foo", path: "README.md" });
    assert.equal(sc(lower).case_sensitive, false);
    assert.equal(sc(lower).total_matches, 7);
    const upper = await ws.call("grep_file", { pattern: "Foo", path: "README.md" });
    assert.equal(sc(upper).case_sensitive, true);
    assert.deepEqual(where(upper), ["README.md:1:3", "README.md:2:17"]);
    const forced = await ws.call("grep_file", { pattern: "FOO", path: "README.md", case_sensitive: false });
    assert.equal(sc(forced).total_matches, 7);
    const sensitive = await ws.call("grep_file", { pattern: "foo", path: "README.md", case_sensitive: true });
    assert.equal(sc(sensitive).total_matches, 4);
  });

  it("literal escapes regex syntax", async () => {
    const res = await ws.call("grep_file", { pattern: "foo()", literal: true });
    assert.deepEqual(where(res), ["src/main.ts:1:17", "src/main.ts:2:18"]);
    const regex = await ws.call("grep_file", { pattern: "foo.", path: "docs", case_sensitive: true });
    assert.equal(sc(regex).total_matches, 6);
    const lit = await ws.call("grep_file", { pattern: "foo.", path: "docs", literal: true });
    assert.deepEqual(where(lit), ["docs/guide.md:2:25"]);
  });

  it("word_boundaries matches whole words only (Unicode-aware)", async () => {
    const res = await ws.call("grep_file", {
      pattern: "foo",
      path: "src/unicode.txt",
      word_boundaries: true,
    });
    assert.deepEqual(where(res), [
      "src/unicode.txt:1:6",
      "src/unicode.txt:2:7",
      "src/unicode.txt:3:5",
      "src/unicode.txt:3:13",
      "src/unicode.txt:4:10",
      "src/unicode.txt:4:16",
      "src/unicode.txt:6:17",
    ]);
  });

  it("context_lines gives before/after lines within the file", async () => {
    const res = await ws.call("grep_file", { pattern: "no match here", context_lines: 2 });
    const [r] = sc(res).results;
    assert.deepEqual(r?.before, ["}", "// aaaa foo aaaa"]);
    assert.deepEqual(r?.after, ["foo foo foo"]);
    assert.match(textOf(res), /src\/main\.ts-4-\/\/ aaaa foo aaaa\nsrc\/main\.ts:5:/);
  });

  it("drops the \\r of CRLF lines from the text", async () => {
    const res = await ws.call("grep_file", { pattern: "second", path: "src/crlf.txt", context_lines: 1 });
    const [r] = sc(res).results;
    assert.equal(r?.text, "second foo");
    assert.deepEqual(r?.before, ["foo line one"]);
    assert.deepEqual(r?.after, ["end foo"]);
  });

  it("max_results caps the results; truncated and total_matches tell the rest", async () => {
    const res = await ws.call("grep_file", { pattern: "foo", max_results: 3 });
    assert.equal(sc(res).results.length, 3);
    assert.equal(sc(res).truncated, true);
    const all = await ws.call("grep_file", { pattern: "foo", max_results: 10_000 });
    assert.equal(sc(res).total_matches, sc(all).total_matches);
    assert.deepEqual(where(res), where(all).slice(0, 3));
    assert.match(textOf(res), /showing the first 3 of \d+ matches/);
  });

  it("files_with_matches returns only paths", async () => {
    const res = await ws.call("grep_file", {
      pattern: "foo",
      files_with_matches: true,
      glob_pattern: "*.txt",
    });
    const s = res.structuredContent as { files: string[]; truncated: boolean };
    // As with rg -g, an including glob beats ignore files and hidden-ness (not a hidden folder's).
    assert.deepEqual(s.files, [
      ".hidden.txt",
      "a-b.txt",
      "a/b.txt",
      "docs/sub/page.txt",
      "excluded-by-info.txt",
      "ignored-by-dot-ignore.txt",
      "pkg/build/gen.txt",
      "root-only.txt",
      "src/crlf.txt",
      "src/nested/b.txt",
      "src/nested/root-only.txt",
      "src/unicode.txt",
    ]);
    assert.equal(textOf(res), s.files.join("\n"));
    const capped = await ws.call("grep_file", { pattern: "foo", files_with_matches: true, max_results: 2 });
    assert.equal((capped.structuredContent as { files: string[] }).files.length, 2);
    assert.equal((capped.structuredContent as { truncated: boolean }).truncated, true);
  });

  it("honours ignore files unless respect_ignore_files is false, and skips hidden unless include_hidden", async () => {
    const files = async (args: Record<string, unknown>): Promise<string[]> =>
      (
        (await ws.call("grep_file", { pattern: "foo", files_with_matches: true, ...args }))
          .structuredContent as { files: string[] }
      ).files;
    const normal = await files({});
    for (const ignored of [
      "app.log",
      "build/out.js",
      "root-only.txt",
      "excluded-by-info.txt",
      "ignored-by-dot-ignore.txt",
      "src/generated.ts",
      "src/nested/a.tmp",
      "docs/sub/page.md",
    ]) {
      assert.ok(!normal.includes(ignored), `${ignored} should be ignored`);
    }
    for (const kept of [
      "keep.log",
      "src/important.log",
      "src/nested/root-only.txt",
      "docs/sub/deeper/x.ts",
    ]) {
      assert.ok(normal.includes(kept), `${kept} should be searched`);
    }
    assert.ok(!normal.some((f) => f.split("/").some((part) => part.startsWith("."))));
    const noIgnore = await files({ respect_ignore_files: false });
    assert.ok(
      noIgnore.includes("app.log") &&
        noIgnore.includes("build/out.js") &&
        noIgnore.includes("src/nested/a.tmp"),
    );
    const hidden = await files({ include_hidden: true });
    assert.ok(
      hidden.includes(".hidden.txt") &&
        hidden.includes(".hiddendir/inner.txt") &&
        hidden.includes("src/nested/.env"),
    );
    assert.ok(!hidden.some((f) => f.startsWith(".git/")), "never searches .git");
  });

  it("glob_pattern filters relative to the searched folder; ! excludes", async () => {
    const files = async (args: Record<string, unknown>): Promise<string[]> =>
      (
        (await ws.call("grep_file", { pattern: "foo", files_with_matches: true, ...args }))
          .structuredContent as { files: string[] }
      ).files;
    assert.deepEqual(await files({ path: "src", glob_pattern: "nested/*" }), [
      "src/nested/.env",
      "src/nested/a.tmp",
      "src/nested/b.txt",
      "src/nested/root-only.txt",
    ]);
    assert.deepEqual(await files({ glob_pattern: "*.ts" }), [
      "docs/sub/deeper/x.ts",
      "src/generated.ts",
      "src/main.ts",
    ]);
    assert.ok(!(await files({ glob_pattern: "!*.txt" })).some((f) => f.endsWith(".txt")));
  });

  it("a binary file named by path is skipped, and the answer says why", async () => {
    for (const extra of [{}, { files_with_matches: true }]) {
      const res = await ws.call("grep_file", { pattern: "foo", path: "src/bin.dat", ...extra });
      assert.equal(res.isError, true);
      assert.equal(
        textOf(res),
        'No matches for "foo" in src/bin.dat: it holds a NUL byte, so it was skipped as binary.',
      );
      assert.equal(sc(res).skipped?.binary, 1);
    }
    // A text file with no match keeps the plain answer.
    const text = await ws.call("grep_file", { pattern: "zzz", path: "src/crlf.txt" });
    assert.equal(textOf(text), 'No matches for "zzz" in src/crlf.txt (1 files searched).');
  });

  it("skips binary files and never follows symlinks out of the workspace", async () => {
    const res = await ws.call("grep_file", {
      pattern: "foo",
      respect_ignore_files: false,
      include_hidden: true,
      max_results: 10_000,
    });
    const paths = new Set(sc(res).results.map((r) => r.path));
    assert.ok(!paths.has("src/bin.dat"));
    assert.ok((sc(res).skipped?.binary ?? 0) >= 1);
    assert.ok(![...paths].some((p) => p.startsWith("link-out") || p.includes("secret")));
    const out = await ws.call("grep_file", {
      pattern: "outside the workspace",
      include_hidden: true,
      respect_ignore_files: false,
    });
    assert.equal(sc(out).total_matches, 0);
    const through = await ws.call("grep_file", { pattern: "foo", path: "link-out" });
    assert.equal(through.isError, true);
    assert.match(textOf(through), /outside the workspace/);
  });

  it("a catastrophic-backtracking pattern returns promptly (RE2 is linear)", async () => {
    await ws.write({ "patho/long.txt": `${"a".repeat(100_000)}b\n`.repeat(5) });
    const started = Date.now();
    const res = await ws.call("grep_file", { pattern: "(a+)+$", path: "patho" });
    const elapsed = Date.now() - started;
    assert.equal(res.isError, true, "no match");
    assert.match(textOf(res), /No matches/);
    assert.equal(sc(res).total_matches, 0);
    // A backtracking engine takes minutes here; the bound is loose so a busy machine cannot flake it.
    assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
    const res2 = await ws.call("grep_file", { pattern: "(x+x+)+y", path: "patho", case_sensitive: true });
    assert.equal(sc(res2).total_matches, 0);
  });

  it("answers to grep_search and file_path", async () => {
    const res = await ws.call("grep_search", { pattern: "second", file_path: "src/crlf.txt" });
    assert.deepEqual(where(res), ["src/crlf.txt:2:1"]);
  });

  it("releases every pooled buffer", async () => {
    await ws.call("grep_file", { pattern: "foo", respect_ignore_files: false, include_hidden: true });
    assert.equal(ws.pool.stats().leased, 0);
  });

  it('reports no matches as a tool error, as grep and rg exit 1 (the contract\'s "no match")', async () => {
    const res = await ws.call("grep_file", { pattern: "zzz-not-there" });
    assert.equal(res.isError, true);
    assert.match(textOf(res), /No matches/);
    assert.equal(sc(res).total_matches, 0);
  });

  describe("bad inputs", () => {
    const invalid = async (args: Record<string, unknown>): Promise<void> => {
      await assert.rejects(
        ws.call("grep_file", args),
        (err: unknown) => err instanceof ProtocolError && err.code === ErrorCodes.InvalidParams,
      );
    };
    it("missing or wrongly typed arguments are -32602", async () => {
      await invalid({});
      await invalid({ pattern: 42 });
      await invalid({ pattern: "" });
      await invalid({ pattern: "x", max_results: 0 });
      await invalid({ pattern: "x", context_lines: "2" });
      await invalid({ pattern: "x", literal: "yes" });
      await invalid({ pattern: "x", bogus: 1 });
      await invalid({ pattern: "x", path: "a", file_path: "b" });
    });
    it("a path outside the workspace is a tool error", async () => {
      const res = await ws.call("grep_file", { pattern: "x", path: "../" });
      assert.equal(res.isError, true);
      assert.match(textOf(res), /outside the workspace/);
      const missing = await ws.call("grep_file", { pattern: "x", path: "nope" });
      assert.equal(missing.isError, true);
    });
    it("an invalid regex is a tool error that says so", async () => {
      const res = await ws.call("grep_file", { pattern: "foo(" });
      assert.equal(res.isError, true);
      assert.match(textOf(res), /invalid regex "foo\(".*literal/);
    });
    it("lookaround and backreferences are refused with a suggestion", async () => {
      for (const pattern of ["foo(?=bar)", "(?<!x)foo", "(a)\\1"]) {
        const res = await ws.call("grep_file", { pattern });
        assert.equal(res.isError, true, pattern);
        assert.match(textOf(res), /(lookaround|backreferences).*literal: true.*simpler pattern/, pattern);
      }
    });
    it("an invalid glob is a tool error", async () => {
      const res = await ws.call("grep_file", { pattern: "x", glob_pattern: "/" });
      assert.equal(res.isError, true);
    });
    it("a cancelled call stops", async () => {
      const controller = new AbortController();
      controller.abort();
      const res = await ws.call("grep_file", { pattern: "foo" }, { signal: controller.signal });
      assert.equal(res.isError, true);
      assert.match(textOf(res), /cancelled/);
    });
  });
});
