import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rm } from "node:fs/promises";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { SEARCH_TREE, writeSearchTree } from "../fixtures/search-tree.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import { ErrorCodes } from "../../src/protocol/errors.js";
import { compareByteOrder } from "../../src/search/walk.js";
import type { ListItem } from "../../src/tools/list_files.js";

interface Structured {
  path: string;
  mode: string;
  items: ListItem[];
  total: number;
  page: number;
  per_page: number;
  has_more: boolean;
  truncated: boolean;
}
const sc = (r: { structuredContent?: Record<string, unknown> }): Structured =>
  r.structuredContent as unknown as Structured;
const shown = (r: { structuredContent?: Record<string, unknown> }): string[] =>
  sc(r).items.map((i) => (i.type === "dir" ? `${i.path}/` : i.path));

describe("list_files", () => {
  let ws: TestWorkspace;
  before(async () => {
    ws = await makeTestWorkspace();
    await writeSearchTree(ws.root, `${ws.root}-outside`);
  });
  after(async () => {
    await ws.cleanup();
    await rm(`${ws.root}-outside`, { recursive: true, force: true });
  });

  it("lists one folder by default: sorted, folders with /, ignored and hidden left out, symlinks listed", async () => {
    const res = await ws.call("list_files", {});
    assert.ok(!res.isError, textOf(res));
    assert.deepEqual(shown(res), [
      "README.md",
      "a-b.txt",
      "a/",
      "docs/",
      "keep.log",
      "link-out",
      "pkg/",
      "src/",
    ]);
    assert.equal(textOf(res), shown(res).join("\n"));
    const link = sc(res).items.find((i) => i.path === "link-out");
    assert.equal(link?.type, "symlink");
    assert.equal(
      sc(res).items.find((i) => i.path === "README.md")?.size,
      Buffer.byteLength(SEARCH_TREE["README.md"]!),
    );
    assert.equal(sc(res).mode, "list");
    assert.equal(sc(res).has_more, false);
  });

  it("include_hidden shows dot-names but never .git", async () => {
    const res = await ws.call("list_files", { include_hidden: true });
    const names = shown(res);
    for (const n of [".gitignore", ".hidden.txt", ".hiddendir/", ".ignore"]) assert.ok(names.includes(n), n);
    assert.ok(!names.some((n) => n.startsWith(".git/")));
  });

  it("lists a subfolder, with the ignore files of its parents applied", async () => {
    const res = await ws.call("list_files", { path: "src" });
    assert.deepEqual(
      shown(res),
      [
        "src/crlf.txt",
        "src/important.log",
        "src/main-link.ts",
        "src/main.ts",
        "src/nested/",
        "src/secret-link.txt",
        "src/unicode.txt",
        "src/bin.dat",
      ].sort(compareByteOrder),
    );
  });

  it("recursive lists every file below, in path byte order, without entering symlinks or ignored folders", async () => {
    const res = await ws.call("list_files", { mode: "recursive" });
    const paths = shown(res);
    assert.deepEqual(paths, [...paths].sort(compareByteOrder));
    assert.ok(
      paths.includes("src/nested/b.txt") &&
        paths.includes("docs/sub/deeper/x.ts") &&
        paths.includes("a/b.txt"),
    );
    assert.ok(paths.includes("link-out"), "the symlink is listed");
    for (const p of [
      "link-out/secret.txt",
      "build/out.js",
      "app.log",
      "src/generated.ts",
      "src/nested/a.tmp",
      "docs/sub/page.md",
      "excluded-by-info.txt",
      "ignored-by-dot-ignore.txt",
      "root-only.txt",
    ]) {
      assert.ok(!paths.includes(p), p);
    }
    assert.ok(!paths.some((p) => p.endsWith("/")), "recursive lists files, not folders");
    const synonym = await ws.call("list_files", { recursive: true });
    assert.deepEqual(shown(synonym), paths);
  });

  it("find_name matches the name at any depth, or an anchored path glob", async () => {
    const txt = await ws.call("list_files", { mode: "find_name", name_pattern: "*.txt" });
    assert.deepEqual(shown(txt), [
      "a-b.txt",
      "a/b.txt",
      "docs/sub/page.txt",
      "pkg/build/gen.txt",
      "src/crlf.txt",
      "src/nested/b.txt",
      "src/nested/root-only.txt",
      "src/secret-link.txt",
      "src/unicode.txt",
    ]);
    const anchored = await ws.call("list_files", { name_pattern: "src/**/*.ts" });
    assert.equal(sc(anchored).mode, "find_name");
    assert.deepEqual(shown(anchored), ["src/main-link.ts", "src/main.ts"]);
    const dirs = await ws.call("list_files", { name_pattern: "s*/" });
    assert.deepEqual(shown(dirs), ["docs/sub/", "src/"]);
    const within = await ws.call("list_files", { path: "src", name_pattern: "nested/*" });
    assert.deepEqual(shown(within), ["src/nested/b.txt", "src/nested/root-only.txt"]);
  });

  it("find_content lists the files whose content matches", async () => {
    const res = await ws.call("list_files", { mode: "find_content", content_pattern: "foo (b|page)\\b" });
    assert.deepEqual(shown(res), ["docs/sub/page.txt", "src/nested/b.txt"]);
    assert.ok(sc(res).items.every((i) => typeof i.size === "number"));
    const hidden = await ws.call("list_files", { content_pattern: "secret=", include_hidden: true });
    assert.deepEqual(shown(hidden), ["src/nested/.env"]);
    const none = await ws.call("list_files", { content_pattern: "zzz" });
    assert.equal(sc(none).total, 0);
    assert.match(textOf(none), /no matching files/);
  });

  it("pages with page/per_page, total and has_more, and says how to get the next page", async () => {
    const all = shown(await ws.call("list_files", { recursive: true }));
    const p1 = await ws.call("list_files", { recursive: true, per_page: 5 });
    assert.deepEqual(shown(p1), all.slice(0, 5));
    assert.equal(sc(p1).total, all.length);
    assert.equal(sc(p1).has_more, true);
    assert.match(textOf(p1).split("\n").at(-1)!, /page: 2/);
    const p2 = await ws.call("list_files", { recursive: true, per_page: 5, page: 2 });
    assert.deepEqual(shown(p2), all.slice(5, 10));
    const lastPage = Math.ceil(all.length / 5);
    const last = await ws.call("list_files", { recursive: true, per_page: 5, page: lastPage });
    assert.equal(sc(last).has_more, false);
    assert.deepEqual(shown(last), all.slice((lastPage - 1) * 5));
    const past = await ws.call("list_files", { recursive: true, per_page: 5, page: lastPage + 1 });
    assert.equal(past.isError, true);
    assert.match(textOf(past), /past the last page/);
  });

  it("paths_only answers with the text alone: the same paths and paging, no items", async () => {
    for (const args of [
      { recursive: true },
      {},
      { mode: "tree" },
      { recursive: true, per_page: 3, page: 2 },
    ]) {
      const full = await ws.call("list_files", args);
      const bare = await ws.call("list_files", { ...args, paths_only: true });
      assert.equal(textOf(bare), textOf(full), JSON.stringify(args));
      assert.equal(sc(bare).items, undefined);
      const { items: _items, ...rest } = sc(full);
      assert.deepEqual(sc(bare), rest);
    }
  });

  it("max_items caps the entries collected", async () => {
    const res = await ws.call("list_files", { recursive: true, max_items: 4 });
    assert.equal(sc(res).total, 4);
    assert.equal(sc(res).truncated, true);
    assert.match(textOf(res), /max_items 4/);
  });

  it("never follows a symlink out of the workspace", async () => {
    const res = await ws.call("list_files", { path: "link-out" });
    assert.equal(res.isError, true);
    assert.match(textOf(res), /outside the workspace/);
  });

  describe("bad inputs", () => {
    const invalid = async (args: Record<string, unknown>): Promise<void> => {
      await assert.rejects(
        ws.call("list_files", args),
        (err: unknown) => err instanceof ProtocolError && err.code === ErrorCodes.InvalidParams,
        JSON.stringify(args),
      );
    };
    it("wrongly typed or unknown arguments are -32602", async () => {
      await invalid({ mode: "forest" });
      await invalid({ path: 3 });
      await invalid({ max_items: 0 });
      await invalid({ page: "2" });
      await invalid({ per_page: 100_001 });
      await invalid({ recursive: "yes" });
      await invalid({ name_pattern: "" });
      await invalid({ bogus: true });
    });
    it("tool errors: outside path, a file, a mode without its pattern, a bad regex", async () => {
      for (const [args, re] of [
        [{ path: "/etc" }, /outside the workspace/],
        [{ path: "README.md" }, /is a file, not a folder/],
        [{ mode: "find_name" }, /needs name_pattern/],
        [{ mode: "find_content" }, /needs content_pattern/],
        [{ content_pattern: "a(" }, /invalid regex/],
        [{ name_pattern: "*.ts", content_pattern: "x" }, /select different modes .*give one/],
        [{ mode: "list", recursive: true }, /contradicts/],
      ] as const) {
        const res = await ws.call("list_files", args as Record<string, unknown>);
        assert.equal(res.isError, true, JSON.stringify(args));
        assert.match(textOf(res), re);
      }
    });
  });
});
