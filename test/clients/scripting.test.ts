/**
 * Runs the shell scripts of docs/scripting.md, extracted from the doc as printed there, with the
 * real `toold` CLI on PATH against a real daemon in a temp workspace.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { CLI, REPO_ROOT, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

/** The bash blocks of the doc that follow a `<!-- tested: NAME -->` marker, by NAME. */
async function scriptsFromDoc(): Promise<Map<string, string>> {
  const doc = await readFile(path.join(REPO_ROOT, "docs/scripting.md"), "utf8");
  const scripts = new Map<string, string>();
  for (const m of doc.matchAll(/<!-- tested: ([\w.-]+) -->\s*```bash\n([\s\S]*?)\n```/g)) {
    scripts.set(m[1] as string, `${m[2]}\n`);
  }
  return scripts;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe("the scripts in docs/scripting.md", () => {
  let d: TestDaemon;
  let scripts: Map<string, string>;
  let bin: string;

  const run = (name: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        "bash",
        [path.join(bin, name), ...args],
        { cwd: d.root, env: { ...d.env, ...env, PATH: `${bin}:${process.env.PATH ?? ""}` }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
      );
    });

  before(async () => {
    scripts = await scriptsFromDoc();
    d = await makeTestDaemon({
      toml: "",
      files: {
        "src/user.ts":
          "export function fetchUser() {}\nconst fetchUserName = 1; // TODO: drop\nfetchUser(); // TODO: async\n",
        "src/app.ts": "// SPDX-License-Identifier: MIT\nimport { fetchUser } from './user';\n",
        "docs/notes.md": "fetchUser is documented here. FIXME: update\n",
      },
    });
    // `toold` on PATH, as after `npm install -g`.
    bin = path.join(d.runDir, "bin");
    await mkdir(bin);
    await writeFile(path.join(bin, "toold"), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    await chmod(path.join(bin, "toold"), 0o755);
    for (const [name, text] of scripts) await writeFile(path.join(bin, name), text);
  });
  after(() => d.cleanup());

  it("finds every tested script in the doc", () => {
    assert.deepEqual([...scripts.keys()].sort(), [
      "add-header.sh",
      "changelog.sh",
      "raw-socket.sh",
      "rename-symbol.sh",
      "todo-report.sh",
    ]);
  });

  it("rename-symbol.sh replaces the text in the files the glob matches, and only there", async () => {
    const r = await run("rename-symbol.sh", ["fetchUser", "loadUser", "*.ts"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split("\n").sort(), ["edited src/app.ts", "edited src/user.ts"]);
    assert.equal(
      await readFile(path.join(d.root, "src/user.ts"), "utf8"),
      "export function loadUser() {}\nconst loadUserName = 1; // TODO: drop\nloadUser(); // TODO: async\n",
    );
    assert.match(await readFile(path.join(d.root, "src/app.ts"), "utf8"), /import \{ loadUser \}/);
    assert.match(await readFile(path.join(d.root, "docs/notes.md"), "utf8"), /fetchUser is documented/);
  });

  it("add-header.sh adds the header where it is missing and keeps the content", async () => {
    const before = await readFile(path.join(d.root, "src/user.ts"), "utf8");
    const app = await readFile(path.join(d.root, "src/app.ts"), "utf8");
    const r = await run("add-header.sh");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "header added: src/user.ts\n");
    assert.equal(
      await readFile(path.join(d.root, "src/user.ts"), "utf8"),
      `// SPDX-License-Identifier: MIT\n${before}`,
    );
    assert.equal(await readFile(path.join(d.root, "src/app.ts"), "utf8"), app);
    // Idempotent: a second run has nothing to do.
    assert.equal((await run("add-header.sh")).stdout, "");
  });

  it("todo-report.sh counts TODO/FIXME per file, most first", async () => {
    const r = await run("todo-report.sh");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "2\tsrc/user.ts\n1\tdocs/notes.md\n");
  });

  it("changelog.sh handles exit 1, and stops with the code on 3", async () => {
    const missing = await run("changelog.sh");
    assert.equal(missing.code, 0, missing.stderr);
    assert.equal(missing.stdout, "no changelog yet\n");
    await writeFile(path.join(d.root, "CHANGELOG.md"), "# Changes\n\n- one\n");
    assert.equal((await run("changelog.sh")).stdout, "changelog has 3 lines\n");
    // A socket folder the daemon refuses (not private): no daemon can be reached, exit 3.
    const open = path.join(d.runDir, "open");
    await mkdir(open, { mode: 0o755 });
    await chmod(open, 0o755);
    const down = await run("changelog.sh", [], { TOOLD_SOCKET: path.join(open, "x.sock") });
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stderr, /toold call failed with exit 3/);
  });

  it("raw-socket.sh talks NDJSON to the socket with socat and reads it with jq", async () => {
    const r = await run("raw-socket.sh");
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.ok(lines.includes("src/app.ts") && lines.includes("src/user.ts"), r.stdout);
    assert.match(r.stdout, /^requests so far: \d+$/m);
  });
});
