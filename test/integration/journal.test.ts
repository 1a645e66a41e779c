/**
 * The journal and the change feed, end to end: the real CLI and daemon, as a new user would try
 * them (issue 16's "Done when"), plus crashes, bounds and slow subscribers.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from "node:fs";
import net from "node:net";
import path from "node:path";
import { makeTestDaemon, waitFor, type TestDaemon } from "../helpers/daemon.js";
import type {
  JournalListResult,
  WorkspaceChange,
  WorkspaceDidChangeParams,
} from "../../src/protocol/methods.js";

function journalFile(d: TestDaemon): string {
  const base = path.join(d.env.TOOLD_STATE_DIR!, "journal");
  const [id] = readdirSync(base);
  return path.join(base, id!, "journal.bin");
}

async function history(d: TestDaemon): Promise<JournalListResult> {
  const r = await d.cli(["history", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as JournalListResult;
}

const read = (d: TestDaemon, rel: string) => readFileSync(path.join(d.root, rel), "utf8");

test("edit through `toold call`, `toold history` lists it, `toold undo` restores it; the journal is outside the workspace", async () => {
  const d = await makeTestDaemon({ files: { "notes.txt": "alpha\nbeta\n" } });
  try {
    const edit = await d.cli(["call", "edit_file", "path=notes.txt", "old_str=beta", "new_str=BETA"]);
    assert.equal(edit.code, 0, edit.stderr);
    assert.equal(read(d, "notes.txt"), "alpha\nBETA\n");

    const h = await d.cli(["history"]);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^1 {2}\S+ \S+ {2}edit_file {2}toold-cli\n {4}M notes\.txt\n$/);
    const list = await history(d);
    assert.equal(list.entries[0]!.tool, "edit_file");
    assert.deepEqual(list.entries[0]!.paths, [
      { path: "notes.txt", before: "file", after: "file", undoable: true },
    ]);

    const undo = await d.cli(["undo"]);
    assert.equal(undo.code, 0, undo.stderr);
    assert.match(undo.stdout, /Undid 1: restored notes\.txt/);
    assert.equal(read(d, "notes.txt"), "alpha\nbeta\n");
    // The undo is an entry too: undoing it redoes the edit.
    const after = await history(d);
    assert.equal(after.entries[0]!.tool, "undo");
    assert.equal(after.entries[0]!.undoes, 1);
    assert.equal((await d.cli(["undo"])).code, 0);
    assert.equal(read(d, "notes.txt"), "alpha\nBETA\n");

    // Stored under the state folder, private; nothing new in the workspace.
    const file = journalFile(d);
    assert.ok(existsSync(file));
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(path.dirname(file)).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(d.root).sort(), ["notes.txt"]);
  } finally {
    await d.cleanup();
  }
});

test("an apply_patch that changed three files, added one in a new folder and deleted one is undone in one step", async () => {
  const d = await makeTestDaemon({
    files: { "a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "gone.txt": "keep me\n" },
  });
  try {
    const patch = [
      "*** Begin Patch",
      ...["a", "b", "c"].flatMap((n) => [`*** Update File: ${n}.txt`, "@@", `-${n}`, `+${n.toUpperCase()}`]),
      "*** Add File: new/deep/x.txt",
      "+x",
      "*** Delete File: gone.txt",
      "*** End Patch",
    ].join("\n");
    const applied = await d.cli(["call", "apply_patch", "-"], { input: JSON.stringify({ input: patch }) });
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(existsSync(path.join(d.root, "gone.txt")), false);

    const entry = (await history(d)).entries[0]!;
    assert.equal(entry.tool, "apply_patch");
    assert.deepEqual(
      entry.paths.map((p) => [p.path, p.before, p.after]),
      [
        ["a.txt", "file", "file"],
        ["b.txt", "file", "file"],
        ["c.txt", "file", "file"],
        ["new", "missing", "dir"],
        ["gone.txt", "file", "missing"],
      ],
    );
    const undo = await d.cli(["undo", String(entry.id)]);
    assert.equal(undo.code, 0, undo.stderr);
    assert.deepEqual(
      ["a.txt", "b.txt", "c.txt", "gone.txt"].map((f) => read(d, f)),
      ["a\n", "b\n", "c\n", "keep me\n"],
    );
    assert.equal(existsSync(path.join(d.root, "new")), false, "the created folders are gone too");
  } finally {
    await d.cleanup();
  }
});

test("undo after a manual edit refuses and names the file; --force restores (and is itself undoable)", async () => {
  const d = await makeTestDaemon({ files: { "one.txt": "1\n", "two.txt": "2\n" } });
  try {
    const patch =
      "*** Begin Patch\n*** Update File: one.txt\n@@\n-1\n+one\n*** Update File: two.txt\n@@\n-2\n+two\n*** End Patch";
    assert.equal(
      (await d.cli(["call", "apply_patch", "-"], { input: JSON.stringify({ input: patch }) })).code,
      0,
    );
    // Someone edits one of the files by hand (not through toold).
    execFileSync("/bin/sh", ["-c", "echo manual >> two.txt"], { cwd: d.root });

    const refused = await d.cli(["undo"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /two\.txt has changed since; nothing was restored/);
    assert.match(refused.stderr, /--force/);
    assert.equal(read(d, "one.txt"), "one\n", "all or nothing: the unchanged file was not restored either");

    const forced = await d.cli(["undo", "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(read(d, "one.txt"), "1\n");
    assert.equal(read(d, "two.txt"), "2\n");
    // The manual edit was journaled by the forced undo: undoing the undo brings it back.
    assert.equal((await d.cli(["undo"])).code, 0);
    assert.equal(read(d, "two.txt"), "two\nmanual\n");
  } finally {
    await d.cleanup();
  }
});

test("the journal survives a restart: toold stop; toold start; toold undo", async () => {
  const d = await makeTestDaemon({ files: { "f.txt": "before\n" } });
  try {
    assert.equal((await d.cli(["call", "write_file", "path=f.txt", "content=after\n"])).code, 0);
    assert.equal((await d.cli(["call", "create_file", "path=made/new.txt", "content=hi"])).code, 0);
    assert.equal((await d.cli(["stop"])).code, 0);
    assert.equal((await d.cli(["start"])).code, 0);
    assert.equal((await history(d)).entries.length, 2);
    assert.equal((await d.cli(["undo"])).code, 0);
    assert.equal(existsSync(path.join(d.root, "made")), false);
    assert.equal((await d.cli(["undo", "1"])).code, 0);
    assert.equal(read(d, "f.txt"), "before\n");
  } finally {
    await d.cleanup();
  }
});

test("a torn last entry (a crash while writing it) is detected, cut off and never applied", async () => {
  const d = await makeTestDaemon({ files: { "f.txt": "v1\n" } });
  try {
    assert.equal((await d.cli(["call", "write_file", "path=f.txt", "content=v2\n"])).code, 0);
    assert.equal((await d.cli(["call", "write_file", "path=f.txt", "content=v3\n"])).code, 0);
    assert.equal((await d.cli(["stop"])).code, 0);
    const file = journalFile(d);
    const good = readFileSync(file);
    // The last entry's frames, torn: its commit record loses its tail, as if the disk write stopped midway.
    const list = good.subarray(0, good.length - 7);
    writeFileSync(file, list);

    const h = await history(d);
    assert.equal(h.entries[0]!.id, 2);
    assert.equal(h.entries[0]!.status, "interrupted", "the begin record survived, its commit did not");
    assert.ok(statSync(file).size < good.length, "the torn tail was cut off");
    // An interrupted entry is not undone without --force (its result is unknown).
    const refused = await d.cli(["undo"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /interrupted/);

    // Garbage after the good frames (a torn begin record) is skipped, not applied.
    await d.cli(["stop"]);
    appendFileSync(
      file,
      Buffer.concat([Buffer.from("TJ01"), Buffer.from([0, 0, 1, 0]), Buffer.alloc(40, 7)]),
    );
    const h2 = await history(d);
    assert.deepEqual(
      h2.entries.map((e) => e.id),
      [2, 1],
    );
    // Entry 2 left f.txt at v3; forcing its undo restores v2, after which entry 1 undoes cleanly.
    assert.equal((await d.cli(["undo", "2", "--force"])).code, 0);
    assert.equal(read(d, "f.txt"), "v2\n");
    assert.equal((await d.cli(["undo", "1"])).code, 0);
    assert.equal(read(d, "f.txt"), "v1\n");
  } finally {
    await d.cleanup();
  }
});

test("big files are recorded as not undoable; the journal stays within max_bytes, oldest dropped first", async () => {
  const d = await makeTestDaemon({
    toml: "[journal]\nmax_bytes = 1048576\nmax_file_bytes = 200000\n",
    files: { "big.bin": "x".repeat(300_000) },
  });
  try {
    assert.equal((await d.cli(["call", "write_file", "path=big.bin", "content=small"])).code, 0);
    const entry = (await history(d)).entries[0]!;
    assert.equal(entry.paths[0]!.undoable, false);
    assert.match(entry.paths[0]!.reason!, /max_file_bytes/);
    const refused = await d.cli(["undo"]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /big\.bin was not recorded/);

    // Nine 150 KB rewrites: about 1.4 MB of before-images, more than max_bytes.
    for (let i = 0; i < 9; i++) {
      const content = String(i).repeat(150_000);
      const args = JSON.stringify({ path: `f${i}.txt`, content });
      assert.equal((await d.cli(["call", "write_file", "-"], { input: args })).code, 0);
      assert.equal((await d.cli(["call", "write_file", `path=f${i}.txt`, "content=short"])).code, 0);
    }
    const h = await history(d);
    assert.ok(h.bytes <= 1048576, `journal ${h.bytes} bytes`);
    assert.equal(statSync(journalFile(d)).size, h.bytes);
    const ids = h.entries.map((e) => e.id);
    assert.equal(ids[0], 19, "the newest is kept");
    assert.ok(!ids.includes(1), "the oldest was dropped");
    // The newest still undoes after compaction moved it.
    assert.equal((await d.cli(["undo"])).code, 0);
    assert.equal(read(d, "f8.txt"), "8".repeat(150_000));
  } finally {
    await d.cleanup();
  }
});

test("workspace/subscribe: a change by `echo >> file` arrives; a change through toold carries its entry id", async () => {
  const d = await makeTestDaemon({ files: { "watched.txt": "start\n" } });
  const client = await d.connect({ clientInfo: { name: "editor" } });
  try {
    const seen: WorkspaceChange[] = [];
    const sub = await client.subscribe((p) => seen.push(...p.changes));
    assert.equal(sub.watching, true);
    execFileSync("/bin/sh", ["-c", "echo more >> watched.txt"], { cwd: d.root });
    await waitFor(() => seen.some((c) => c.path === "watched.txt"), 5000, "the watcher's change");
    const external = seen.find((c) => c.path === "watched.txt")!;
    assert.equal(external.kind, "changed");
    assert.equal(external.changeId, undefined, "not made through toold");

    seen.length = 0;
    const r = await client.callTool("write_file", { path: "made.txt", content: "x" });
    assert.ok(!r.isError);
    await waitFor(() => seen.some((c) => c.path === "made.txt"), 5000, "the toold change");
    const entry = (await client.journal(1)).entries[0]!;
    assert.equal(entry.client, "editor");
    const made = seen.find((c) => c.path === "made.txt")!;
    assert.equal(made.kind, "created");
    assert.equal(made.changeId, entry.id);
    // The atomic write's temp file is not reported.
    assert.ok(!seen.some((c) => c.path.includes(".toold-")), JSON.stringify(seen));
  } finally {
    client.close();
    await d.cleanup();
  }
});

test("without a watcher ([cache] watch = false) the feed still reports changes made through toold", async () => {
  const d = await makeTestDaemon({ toml: "[cache]\nwatch = false\n" });
  const client = await d.connect();
  try {
    const seen: WorkspaceChange[] = [];
    const sub = await client.subscribe((p) => seen.push(...p.changes));
    assert.equal(sub.watching, false);
    assert.ok(!(await client.callTool("create_file", { path: "made/here.txt", content: "x" })).isError);
    await waitFor(() => seen.some((c) => c.path === "made/here.txt"), 5000, "the toold change");
    const id = (await client.journal(1)).entries[0]!.id;
    assert.deepEqual(
      seen.filter((c) => c.path.startsWith("made")).sort((a, b) => a.path.localeCompare(b.path)),
      [
        { path: "made", kind: "created", changeId: id },
        { path: "made/here.txt", kind: "created", changeId: id },
      ],
    );
  } finally {
    client.close();
    await d.cleanup();
  }
});

test("a subscriber that never reads is dropped; the daemon's backlog stays bounded", async () => {
  const d = await makeTestDaemon({ toml: "[feed]\nmax_backlog_bytes = 4096\ncoalesce_ms = 5\n" });
  const client = await d.connect();
  const raw = net.connect(d.socket);
  try {
    await new Promise<void>((resolve) => raw.once("connect", () => resolve()));
    raw.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "workspace/subscribe", params: {} })}\n`);
    await waitFor(
      async () =>
        (await client.stats()).feed !== undefined &&
        ((await client.stats()).feed as { subscribers: number }).subscribers === 1,
      5000,
      "the subscription",
    );
    raw.pause(); // never read again: the socket buffers fill, then the daemon's backlog would grow
    const long = "n".repeat(180);
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 400; i++) writeFileSync(path.join(d.root, `${long}-${i}`), String(round));
      await new Promise((r) => setTimeout(r, 30));
    }
    await waitFor(
      async () => (await client.stats()).feed?.dropped === 1,
      15_000,
      "the slow subscriber dropped",
    );
    const feed = (await client.stats()).feed!;
    assert.equal(feed.subscribers, 0);
    assert.equal(feed.backlogBytes, 0);
    // Everyone else is served as before.
    assert.equal((await client.callTool("read_file", { path: `${long}-1` })).isError, undefined);
  } finally {
    raw.destroy();
    client.close();
    await d.cleanup();
  }
});

test("concurrent writes to one file are journaled one at a time: undoing them newest first restores the original", async () => {
  const d = await makeTestDaemon({ files: { "shared.txt": "original\n" } });
  const client = await d.connect();
  try {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        client.callTool("write_file", { path: "shared.txt", content: `v${i}\n` }),
      ),
    );
    assert.ok(results.every((r) => !r.isError));
    const list = await client.journal();
    assert.equal(list.entries.length, 8);
    for (let i = 0; i < 8; i++) {
      const undo = await client.undo({ id: list.entries[i]!.id });
      assert.equal(undo.undone, list.entries[i]!.id);
    }
    assert.equal(read(d, "shared.txt"), "original\n");
  } finally {
    client.close();
    await d.cleanup();
  }
});

test("move_file, copy_file and create_directory are journaled and undone", async () => {
  const d = await makeTestDaemon({ files: { "src/a.ts": "a\n", "src/sub/b.ts": "b\n", "keep.txt": "k\n" } });
  try {
    const call = async (tool: string, args: Record<string, unknown>) => {
      const r = await d.cli(["call", tool, "-"], { input: JSON.stringify(args) });
      assert.equal(r.code, 0, r.stderr);
    };
    await call("move_file", { source: "src", destination: "lib/src" });
    await call("copy_file", { source: "keep.txt", destination: "copies/keep.txt" });
    await call("create_directory", { path: "x/y/z" });
    const tools = (await history(d)).entries.map((e) => e.tool);
    assert.deepEqual(tools, ["create_directory", "copy_file", "move_file"]);
    for (let i = 0; i < 3; i++) assert.equal((await d.cli(["undo", String(3 - i)])).code, 0);
    assert.deepEqual(readdirSync(d.root).sort(), ["keep.txt", "src"]);
    assert.equal(read(d, "src/sub/b.ts"), "b\n");
    assert.equal(read(d, "src/a.ts"), "a\n");
  } finally {
    await d.cleanup();
  }
});

test("an unusable state folder turns the journal off with the reason; tools keep working", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "a" } });
  try {
    // The journal's folder is taken by a file: the journal cannot be created.
    mkdirSync(d.env.TOOLD_STATE_DIR!, { recursive: true, mode: 0o700 });
    writeFileSync(path.join(d.env.TOOLD_STATE_DIR!, "journal"), "not a folder");
    assert.equal((await d.cli(["call", "write_file", "path=a.txt", "content=b"])).code, 0);
    assert.equal(read(d, "a.txt"), "b");
    const h = await d.cli(["history"]);
    assert.equal(h.code, 0);
    assert.match(h.stderr, /the journal is off: the journal at .* cannot be used/);
    const undo = await d.cli(["undo"]);
    assert.equal(undo.code, 1);
    assert.match(undo.stderr, /the journal is off/);
  } finally {
    await d.cleanup();
  }
});

test("journal/undo and journal/list reject bad params with a clear error", async () => {
  const d = await makeTestDaemon({ files: { "a.txt": "a" } });
  const client = await d.connect();
  try {
    await assert.rejects(client.undo({ id: -3 }), /"id" must be an entry id/);
    await assert.rejects(client.undo({ id: 99 }), /no journal entry 99/);
    await assert.rejects(client.undo(), /the journal is empty/);
    await assert.rejects(client.journal(-1), /"limit" must be an integer >= 0/);
    const usage = await d.cli(["undo", "abc"]);
    assert.equal(usage.code, 2);
  } finally {
    client.close();
    await d.cleanup();
  }
});

void ((_: WorkspaceDidChangeParams) => undefined);

test("a tampered journal cannot make undo write outside the workspace or into a protected path", async () => {
  const d = await makeTestDaemon({ files: { "f.txt": "v1\n" } });
  try {
    assert.equal((await d.cli(["call", "write_file", "path=f.txt", "content=v2\n"])).code, 0);
    await d.cli(["stop"]);
    const { encodeFrame } = await import("../../src/journal/frames.js");
    const outside = path.join(path.dirname(d.root), "escaped.txt");
    const forged = (id: number, root: string) => [
      encodeFrame(
        {
          t: "begin",
          id,
          time: new Date().toISOString(),
          tool: "write_file",
          client: "attacker",
          roots: [{ path: root, tree: false }],
          items: [{ path: root, kind: "file", mode: 0o644, hash: "0", size: 4, blob: [0, 4] }],
        },
        [Buffer.from("pwnd")],
      ),
      encodeFrame({ t: "commit", id, after: [{ path: root, kind: "missing" }] }),
    ];
    // Another process of the user appends entries naming a path outside and a protected one.
    appendFileSync(
      journalFile(d),
      Buffer.concat([...forged(50, "../escaped.txt"), ...forged(51, "vtcode.toml")]),
    );
    const protectedTry = await d.cli(["undo", "51"]);
    assert.equal(protectedTry.code, 1);
    assert.match(protectedTry.stderr, /protected/);
    assert.equal(existsSync(path.join(d.root, "vtcode.toml")), false);
    const outsideTry = await d.cli(["undo", "50", "--force"]);
    assert.equal(outsideTry.code, 1);
    assert.match(outsideTry.stderr, /damaged|outside/);
    assert.equal(existsSync(outside), false, "nothing written outside the workspace");
    // The genuine entry still undoes.
    assert.equal((await d.cli(["undo", "1"])).code, 0);
    assert.equal(read(d, "f.txt"), "v1\n");
  } finally {
    await d.cleanup();
  }
});
