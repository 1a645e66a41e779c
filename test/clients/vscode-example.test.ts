/**
 * docs/examples/vscode-extension: the doc shows these exact files; they typecheck against the
 * built `toold/client` (and a stub of the vscode API), compile to CommonJS, and the compiled
 * extension runs its palette commands against a real daemon with a mock `vscode` module.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, cp, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { REPO_ROOT, makeTestDaemon, type TestDaemon } from "../helpers/daemon.js";

const EXAMPLE = path.join(REPO_ROOT, "docs/examples/vscode-extension");
const FIXTURES = path.join(REPO_ROOT, "test/clients/fixtures");

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { ...opts, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe("the VS Code extension example", () => {
  let d: TestDaemon;
  let project: string;
  before(async () => {
    d = await makeTestDaemon({
      toml: `[tools.policies]\nrun_terminal_cmd = "prompt"\n`,
      files: { "src/app.ts": "const answer = 42;\n" },
    });
    // The extension's own project, as its author would have it after `npm install`.
    project = path.join(d.runDir, "ext");
    await cp(EXAMPLE, project, { recursive: true });
    await mkdir(path.join(project, "node_modules/@types/vscode"), { recursive: true });
    await symlink(REPO_ROOT, path.join(project, "node_modules/toold"));
    await symlink(
      path.join(REPO_ROOT, "node_modules/@types/node"),
      path.join(project, "node_modules/@types/node"),
    );
    await copyFile(
      path.join(FIXTURES, "vscode.d.ts"),
      path.join(project, "node_modules/@types/vscode/index.d.ts"),
    );
    await writeFile(
      path.join(project, "node_modules/@types/vscode/package.json"),
      '{"name":"@types/vscode","types":"index.d.ts"}',
    );
  });
  after(() => d.cleanup());

  it("is shown in docs/clients.md exactly as it is in the repository", async () => {
    const doc = await readFile(path.join(REPO_ROOT, "docs/clients.md"), "utf8");
    for (const file of ["package.json", "src/extension.ts", "src/follow-changes.ts"]) {
      const text = (await readFile(path.join(EXAMPLE, file), "utf8")).trimEnd();
      assert.ok(doc.includes(`\n${text}\n\`\`\``), `docs/clients.md shows ${file} as it is`);
    }
  });

  it("typechecks and compiles to CommonJS that loads toold with import()", async () => {
    const tsc = path.join(REPO_ROOT, "node_modules/typescript/bin/tsc");
    const r = await run(process.execPath, [tsc, "-p", project], { cwd: project });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const js = await readFile(path.join(project, "out/extension.js"), "utf8");
    assert.match(js, /require\("vscode"\)/);
    assert.match(js, /import\("toold\/client"\)/);
  });

  it("runs its commands against a real daemon: search, an approved command with streamed output, stats", async () => {
    // At run time `vscode` is the mock (VS Code provides the real one).
    await mkdir(path.join(project, "node_modules/vscode"), { recursive: true });
    await copyFile(
      path.join(FIXTURES, "vscode-mock.cjs"),
      path.join(project, "node_modules/vscode/index.js"),
    );
    const r = await run(
      process.execPath,
      [
        path.join(FIXTURES, "vscode-driver.cjs"),
        path.join(project, "out/extension.js"),
        "toold.grep",
        "toold.run",
        "toold.stats",
      ],
      {
        cwd: project,
        env: {
          ...d.env,
          NODE_PATH: path.join(project, "node_modules"),
          TOOLD_TEST_WORKSPACE: d.root,
          TOOLD_TEST_INPUTS: JSON.stringify(["answer", "echo streamed-$((6*7))"]),
        },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const shown = JSON.parse(r.stdout) as { output: string; errors: string[]; warnings: string[] };
    assert.deepEqual(shown.errors, []);
    assert.match(shown.output, /── grep answer\nsrc\/app\.ts:1:7:const answer = 42;/);
    assert.deepEqual(shown.warnings, ["Allow run_terminal_cmd?"]);
    assert.match(shown.output, /── \$ echo streamed-\$\(\(6\*7\)\)\n[^]*streamed-42/);
    assert.match(shown.output, /── stats\n\{[^]*"grep_file": \{\s*"calls": 1,/);
  });
});
