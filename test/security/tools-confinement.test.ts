/**
 * Every tool, through the real daemon: symlinks that lead out are refused for read, write, list,
 * grep, delete and patch; dangling links are never written through; protected paths are never
 * changed; and nothing outside the workspace changes whatever is tried.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";
import type { ToolDClient, ToolResult } from "../../src/client/index.js";

const TOML = `[tools.policies]
delete_file = "allow"
run_terminal_cmd = "allow"
`;
const SECRET = "TOPSECRET-4c1d";

let d: TestDaemon;
let c: ToolDClient;
let outside: string;
let snapshot: string;

async function outsideSnapshot(): Promise<string> {
  const names = (await readdir(outside, { recursive: true })).sort();
  const parts: string[] = [];
  for (const n of names) {
    const p = path.join(outside, n);
    parts.push(`${n}:${lstatSync(p).isFile() ? await readFile(p, "utf8") : "dir"}`);
  }
  return parts.join("\n");
}

before(async () => {
  d = await makeTestDaemon({
    toml: TOML,
    files: { "src/a.txt": "alpha\n", ".git/config": "[core]\n", "notes.txt": "notes\n" },
  });
  // The prefix trap: a sibling whose name starts with the workspace's.
  outside = `${d.root}-evil`;
  await mkdir(path.join(outside, "sub"), { recursive: true });
  await writeFile(path.join(outside, "secret.txt"), `${SECRET}\n`);
  await writeFile(path.join(outside, "sub", "deep.txt"), `${SECRET}\n`);
  await symlink(outside, path.join(d.root, "out")); // folder link out
  await symlink(path.join(outside, "secret.txt"), path.join(d.root, "secret-link")); // file link out
  await symlink("../..", path.join(d.root, "src", "up")); // relative link out
  await symlink(path.join(outside, "new.txt"), path.join(d.root, "dangling-out")); // dangling, target outside
  await symlink("missing.txt", path.join(d.root, "dangling-in")); // dangling, target inside
  await symlink("src/a.txt", path.join(d.root, "a-link")); // inside → inside
  await symlink("vtcode.toml", path.join(d.root, "cfg-link")); // inside → protected
  snapshot = await outsideSnapshot();
  c = await d.connect();
});

after(async () => {
  c?.close();
  await d.cleanup();
  await import("node:fs/promises").then((f) => f.rm(outside, { recursive: true, force: true }));
});

const text = (r: ToolResult) => r.content.map((x) => x.text).join("");

async function refused(name: string, args: Record<string, unknown>, pattern: RegExp): Promise<void> {
  const r = await c.callTool(name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should be refused, got: ${text(r)}`);
  assert.match(text(r), pattern, `${name} ${JSON.stringify(args)}`);
  assert.doesNotMatch(text(r), new RegExp(SECRET), "no secret content in the answer");
}

const OUT = /outside the workspace|leads outside/;

describe("reads", () => {
  test("read_file: links out, the prefix trap, absolute paths out", async () => {
    for (const p of [
      "out/secret.txt",
      "secret-link",
      "src/up/ws-evil/secret.txt",
      "../ws-evil/secret.txt",
      path.join(outside, "secret.txt"),
      "/etc/passwd",
    ]) {
      await refused("read_file", { path: p }, OUT);
    }
    await refused("read_file", { path: "dangling-out" }, /symlink whose target does not exist/);
    const inside = await c.callTool("read_file", { path: "a-link" });
    assert.equal(text(inside), "alpha\n", "a link inside to inside works");
  });

  test("list_files: a link out is refused as a folder, and never descended into", async () => {
    await refused("list_files", { path: "out" }, OUT);
    await refused("list_files", { path: "src/up" }, OUT);
    const all = await c.callTool("list_files", { path: ".", recursive: true, include_hidden: true });
    assert.equal(all.isError, undefined, text(all));
    assert.doesNotMatch(text(all), /secret\.txt|deep\.txt/);
  });

  test("grep_file: a link out is refused as a root, and never followed in a walk", async () => {
    const tools = (await c.listTools()).map((t) => t.name);
    if (!tools.includes("grep_file")) return; // not registered in this build
    await refused("grep_file", { pattern: SECRET, path: "out" }, OUT);
    await refused("grep_file", { pattern: SECRET, path: "secret-link" }, OUT);
    // A regex that matches the secret without spelling it, so an echo of the pattern cannot hide a leak.
    const all = await c.callTool("grep_file", { pattern: "TOPSECRET-4c1[d]", path: "." });
    assert.doesNotMatch(text(all), new RegExp(SECRET));
    assert.doesNotMatch(JSON.stringify(all.structuredContent ?? {}), /secret|deep/);
  });

  test("run_terminal_cmd: a cwd out is refused", async () => {
    await refused("run_terminal_cmd", { command: "pwd", cwd: "out" }, OUT);
    await refused("run_terminal_cmd", { command: "pwd", cwd: "../ws-evil" }, OUT);
  });
});

describe("writes", () => {
  test("write_file / create_file / edit_file: links out are refused, dangling links never written through", async () => {
    for (const p of [
      "out/new.txt",
      "out/secret.txt",
      "secret-link",
      "src/up/ws-evil/x.txt",
      "../ws-evil/x.txt",
    ]) {
      await refused("write_file", { path: p, content: "pwned" }, OUT);
    }
    await refused("write_file", { path: "dangling-out", content: "pwned" }, /dangling|symlink whose target/);
    await refused(
      "create_file",
      { path: "dangling-out", content: "pwned" },
      /dangling|symlink whose target|exists/,
    );
    await refused("write_file", { path: "dangling-in", content: "x" }, /dangling|symlink whose target/);
    assert.equal(existsSync(path.join(outside, "new.txt")), false);
    assert.equal(existsSync(path.join(d.root, "missing.txt")), false);
    await refused("edit_file", { path: "secret-link", old_str: SECRET, new_str: "pwned" }, OUT);
    await refused("edit_file", { path: "out/secret.txt", old_str: SECRET, new_str: "pwned" }, OUT);
  });

  test("a link inside that points inside is written through: its target changes, the link stays", async () => {
    const r = await c.callTool("write_file", { path: "a-link", content: "beta\n" });
    assert.equal(r.isError, undefined, text(r));
    assert.equal(await readFile(path.join(d.root, "src/a.txt"), "utf8"), "beta\n");
    assert.ok(lstatSync(path.join(d.root, "a-link")).isSymbolicLink());
  });

  test("delete_file: links out are removed as links (never their target); paths through them are refused", async () => {
    await refused("delete_file", { path: "out/secret.txt" }, OUT);
    await refused("delete_file", { path: "src/up/ws-evil", recursive: true }, OUT);
    await refused("delete_file", { path: "../ws-evil", recursive: true }, OUT);
    const r = await c.callTool("delete_file", { path: "secret-link" });
    assert.equal(r.isError, undefined, text(r));
    assert.equal(existsSync(path.join(d.root, "secret-link")), false);
    assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), `${SECRET}\n`);
  });

  test("apply_patch: any file through a link out fails the whole patch, nothing written", async () => {
    const patch = (body: string) => `*** Begin Patch\n*** Add File: fine.txt\n+ok\n${body}*** End Patch\n`;
    await refused("apply_patch", { input: patch(`*** Add File: out/added.txt\n+pwned\n`) }, OUT);
    await refused(
      "apply_patch",
      { input: patch(`*** Update File: out/secret.txt\n@@\n-${SECRET}\n+pwned\n`) },
      OUT,
    );
    await refused("apply_patch", { input: patch(`*** Delete File: out/secret.txt\n`) }, OUT);
    await refused(
      "apply_patch",
      { input: patch(`*** Update File: notes.txt\n*** Move to: out/moved.txt\n@@\n-notes\n+moved\n`) },
      OUT,
    );
    await refused(
      "apply_patch",
      { input: patch(`*** Add File: dangling-out\n+pwned\n`) },
      /dangling|symlink|exists/,
    );
    assert.equal(existsSync(path.join(d.root, "fine.txt")), false, "all-or-nothing");
    assert.equal(await readFile(path.join(d.root, "notes.txt"), "utf8"), "notes\n");
  });
});

describe("protected paths (vtcode.toml, .git/**)", () => {
  const PROTECTED = /protected by \[tools\] protected_paths/;

  test("write tools refuse them by any name, so an agent cannot widen its own policy", async () => {
    const widen = '[tools]\ndefault_policy = "allow"\n';
    await refused("write_file", { path: "vtcode.toml", content: widen }, PROTECTED);
    await refused("write_file", { path: "./src/../vtcode.toml", content: widen }, PROTECTED);
    await refused("write_file", { path: path.join(d.root, "vtcode.toml"), content: widen }, PROTECTED);
    await refused("write_file", { path: "cfg-link", content: widen }, PROTECTED);
    await refused("write_file", { path: ".git/hooks/post-checkout", content: "#!/bin/sh\n" }, PROTECTED);
    await refused("edit_file", { path: "vtcode.toml", old_str: "delete_file", new_str: "x" }, PROTECTED);
    await refused(
      "edit_file",
      { path: ".git/config", old_str: "[core]", new_str: "[core]\nfsmonitor = evil" },
      PROTECTED,
    );
    // Any folder's vtcode.toml: toold run from that folder would read it as its policy.
    await refused("write_file", { path: "src/vtcode.toml", content: widen }, PROTECTED);
    await refused("create_file", { path: "sub/vtcode.toml", content: widen }, PROTECTED);
    await refused(
      "apply_patch",
      {
        input: `*** Begin Patch\n*** Add File: sub/vtcode.toml\n+[tools]\n+default_policy = "allow"\n*** End Patch\n`,
      },
      PROTECTED,
    );
    await refused("delete_file", { path: "vtcode.toml" }, PROTECTED);
    await refused("delete_file", { path: ".git", recursive: true }, PROTECTED);
    await refused(
      "apply_patch",
      {
        input: `*** Begin Patch\n*** Update File: vtcode.toml\n@@\n-[tools.policies]\n+[tools.policies]\n+x = 1\n*** End Patch\n`,
      },
      PROTECTED,
    );
    await refused(
      "apply_patch",
      {
        input: `*** Begin Patch\n*** Update File: notes.txt\n*** Move to: vtcode.toml\n@@\n-notes\n+[tools]\n+default_policy = "allow"\n*** End Patch\n`,
      },
      PROTECTED,
    );
    assert.equal(await readFile(path.join(d.root, "vtcode.toml"), "utf8"), TOML);
    assert.equal(await readFile(path.join(d.root, ".git/config"), "utf8"), "[core]\n");
    assert.equal(existsSync(path.join(d.root, ".git/hooks")), false);
    assert.equal(existsSync(path.join(d.root, "src/vtcode.toml")), false);
    assert.equal(existsSync(path.join(d.root, "sub")), false);
  });
});

describe("outside the workspace", () => {
  test("nothing changed, whatever was tried above", async () => {
    assert.equal(await outsideSnapshot(), snapshot);
  });
});
