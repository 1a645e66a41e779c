import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeTestWorkspace, type TestWorkspace } from "../helpers/tool-context.js";
import { writeSearchTree } from "../fixtures/search-tree.js";
import { compareByteOrder, walk, walkFiles } from "../../src/search/walk.js";
import { compileMatcher, smartCaseInsensitive, unicodePerlClasses } from "../../src/search/matcher.js";
import { compileGlob } from "../../src/support/glob.js";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("search walker", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await makeTestWorkspace();
    await writeSearchTree(ws.root, `${ws.root}-outside`);
    await ws.write({
      "order/\u{e000}.txt": "x",
      "order/\u{1f600}.txt": "x",
      "order/a.txt": "x",
      "order/a/b.txt": "x",
      "order/B.txt": "x",
    });
  });
  after(async () => {
    await ws.cleanup();
    await rm(`${ws.root}-outside`, { recursive: true, force: true });
  });

  it("yields files sorted in UTF-8 byte order, relative to the root", async () => {
    const files = await collect(walkFiles(`${ws.root}/order`));
    assert.deepEqual(files, ["B.txt", "a.txt", "a/b.txt", "\u{e000}.txt", "\u{1f600}.txt"]);
    const bytes = [...files].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(files, bytes);
    assert.ok(compareByteOrder("\u{1f600}", "\u{e000}") > 0);
  });

  it("applies the base's ignore files to a root below it", async () => {
    const withBase = await collect(walkFiles(`${ws.root}/src`, { base: ws.root }));
    const alone = await collect(walkFiles(`${ws.root}/src`));
    assert.ok(withBase.includes("important.log") && withBase.includes("crlf.txt"));
    assert.ok(!withBase.includes("generated.ts"));
    // without the root .gitignore, nothing ignores *.log, and src/.gitignore still applies
    assert.ok(alone.includes("important.log") && !alone.includes("generated.ts"));
  });

  it("reports folders before their contents and symlinks as symlinks", async () => {
    const entries = await collect(walk(ws.root, { maxDepth: 2 }));
    const src = entries.findIndex((e) => e.path === "src");
    assert.equal(entries[src]?.type, "dir");
    assert.equal(entries[src + 1]?.path.startsWith("src/"), true);
    assert.equal(entries.find((e) => e.path === "link-out")?.type, "symlink");
    assert.ok(!entries.some((e) => e.path.startsWith("link-out/")));
    assert.ok(entries.every((e) => e.path.split("/").length <= 2));
  });

  it("stops when the signal aborts", async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const e of walk(ws.root, {}, controller.signal)) {
        seen.push(e.path);
        controller.abort();
      }
    }, /abort/i);
    assert.ok(seen.length < 5);
  });
});

describe("search matcher and globs", () => {
  it("smart case follows ripgrep: uppercase literals only", () => {
    assert.equal(smartCaseInsensitive("foo", false), true);
    assert.equal(smartCaseInsensitive("Foo", false), false);
    assert.equal(smartCaseInsensitive("\\Wfoo\\S", false), true);
    assert.equal(smartCaseInsensitive("\\p{Lu}x", false), true);
    assert.equal(smartCaseInsensitive("(?P<Name>x)", false), true);
    assert.equal(smartCaseInsensitive("[A-Z]", false), false);
    assert.equal(smartCaseInsensitive("École", true), false);
  });

  it("makes \\w \\d \\s Unicode-aware", () => {
    assert.equal(unicodePerlClasses("a\\\\w"), "a\\\\w");
    assert.match(unicodePerlClasses("\\w+"), /^\[\\p\{L\}/);
    assert.deepEqual(compileMatcher({ pattern: "\\w+" }).matches("héllo wörld"), [
      { start: 0, end: 5 },
      { start: 6, end: 11 },
    ]);
    assert.deepEqual(compileMatcher({ pattern: "[\\w.]+" }).matches("é.x y"), [
      { start: 0, end: 3 },
      { start: 4, end: 5 },
    ]);
  });

  it("handles empty matches without looping", () => {
    assert.equal(compileMatcher({ pattern: "x*" }).matches("ab😀c").length, 5);
  });

  it("globs: basename without /, anchored with /, dir-only with a trailing /", () => {
    assert.equal(compileGlob("*.ts").test("a/b/c.ts", false), true);
    assert.equal(compileGlob("*.ts").test("a/b/c.tsx", false), false);
    assert.equal(compileGlob("b/*.ts").test("a/b/c.ts", false), false);
    assert.equal(compileGlob("a/**/*.ts").test("a/b/c.ts", false), true);
    assert.equal(compileGlob("/a/*").test("a/x", false), true);
    assert.equal(compileGlob("src/").test("src", false), false);
    assert.equal(compileGlob("src/").test("x/src", true), true);
    assert.equal(compileGlob("*.{js,ts}").test(".eslintrc.js", false), true);
  });
});
