/**
 * docs/tools.md is tested: every example in it runs, in document order, through the real CLI
 * (dist/cli/main.js) against one daemon on the fixture workspace below, and its exit code and
 * output must match what the doc shows.
 *
 * The doc's convention (also stated in its introduction):
 *
 * - Every fenced block whose info string is `sh` holds examples. A line starting with `$ ` is a
 *   command; following lines starting with `> ` continue it (the shell's PS2), e.g. a heredoc.
 *   The lines after it, up to the next `$ ` line or the end of the block, are its expected
 *   output: stdout and stderr together (`2>&1`), trailing blank lines and newlines ignored.
 * - `# exit N` at the end of the command's first or last line is the expected exit code
 *   (default 0). It is a shell comment, so the line can be pasted as it is.
 * - In expected output, `…` matches any text within a line, and a line holding only `…`
 *   matches any number of lines (none included).
 * - The workspace root is shown as /home/me/project: in commands it is replaced by the real
 *   root before running, in output the real root is replaced by it.
 *
 * Each command runs with `/bin/sh -c`, where `toold` is a function that runs the compiled CLI
 * with --workspace and --socket set, and stdin is /dev/null (not a terminal), unless the command
 * pipes into toold itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync } from "node:fs";
import path from "node:path";
import { CLI, makeTestDaemon, REPO_ROOT } from "../helpers/daemon.js";

const DOC = path.join(REPO_ROOT, "docs/tools.md");
const SHOWN_ROOT = "/home/me/project";

/** The workspace the examples run in. docs/tools.md describes it in its introduction. */
export const FIXTURE_TOML = `# The examples' workspace: commands run without asking; delete_file keeps its default, "prompt".
[tools.policies]
run_terminal_cmd = "allow"
exec_command = "allow"

[commands]
deny_list = ["rm"]
`;

export const FIXTURE_FILES: Record<string, string> = {
  "README.md": "# Demo\n\nA small workspace for the toold examples.\n",
  "notes.txt": "alpha\nbeta\ngamma\ndelta\nepsilon\n",
  "src/app.ts":
    'import { greet } from "./greet.js";\n\nexport function main(): void {\n  console.log(greet("world"));\n}\n',
  "src/greet.ts": "export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n",
  "src/util/math.ts":
    "// TODO: handle overflow\nexport const add = (a: number, b: number): number => a + b;\nexport const sub = (a: number, b: number): number => a - b;\n",
  "docs/guide.md": "# Guide\n\nTODO: write the guide.\n",
  ".gitignore": "build/\n",
  "build/out.js": 'console.log("built");\n',
  ".env": "TOKEN=dev\n",
  "assets/logo.png": "\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR",
};

export interface Example {
  /** 1-based line of the `$ ` line in the doc. */
  line: number;
  /** The command as the shell runs it (continuation lines joined with newlines, `# exit` removed). */
  command: string;
  exit: number;
  expected: string[];
}

const EXIT_COMMENT = /\s+#\s*exit\s+(\d+)\s*$/;

export function parseExamples(markdown: string): Example[] {
  const lines = markdown.split("\n");
  const examples: Example[] = [];
  let inSh = false;
  let fence = "";
  let current: (Example & { cmdLines: string[]; reading: "command" | "output" }) | undefined;
  const finish = () => {
    if (!current) return;
    while (current.expected.length > 0 && current.expected[current.expected.length - 1]!.trim() === "") {
      current.expected.pop();
    }
    const cmd = current.cmdLines;
    let exit = 0;
    for (const idx of cmd.length > 1 ? [0, cmd.length - 1] : [0]) {
      const m = EXIT_COMMENT.exec(cmd[idx]!);
      if (m) {
        exit = Number(m[1]);
        cmd[idx] = cmd[idx]!.slice(0, m.index);
        break;
      }
    }
    examples.push({ line: current.line, command: cmd.join("\n"), exit, expected: current.expected });
    current = undefined;
  };
  lines.forEach((text, i) => {
    const open = /^(`{3,})(\S*)\s*$/.exec(text);
    if (!inSh && fence === "" && open) {
      fence = open[1]!;
      inSh = open[2] === "sh";
      return;
    }
    if (fence !== "" && text.trimEnd() === fence) {
      finish();
      fence = "";
      inSh = false;
      return;
    }
    if (!inSh) return;
    if (text.startsWith("$ ")) {
      finish();
      current = {
        line: i + 1,
        command: "",
        exit: 0,
        expected: [],
        cmdLines: [text.slice(2)],
        reading: "command",
      };
    } else if (current && current.reading === "command" && (text.startsWith("> ") || text === ">")) {
      current.cmdLines.push(text.slice(2));
    } else if (current) {
      current.reading = "output";
      current.expected.push(text);
    } else if (text.trim() !== "") {
      throw new Error(`docs/tools.md:${i + 1}: text in a sh block before any "$ " command: ${text}`);
    }
  });
  if (fence !== "") throw new Error("docs/tools.md: unclosed code fence");
  return examples;
}

function lineMatches(expected: string, actual: string): boolean {
  if (!expected.includes("…")) return expected === actual;
  const source = expected
    .split("…")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`, "s").test(actual);
}

/** `…` alone on a line matches any number of lines; within a line, any text. */
export function outputMatches(expected: readonly string[], actual: readonly string[]): boolean {
  const memo = new Map<string, boolean>();
  const go = (e: number, a: number): boolean => {
    const key = `${e},${a}`;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let ok: boolean;
    if (e === expected.length) ok = a === actual.length;
    else if (expected[e]!.trim() === "…") {
      ok = false;
      for (let k = a; k <= actual.length && !ok; k++) ok = go(e + 1, k);
    } else ok = a < actual.length && lineMatches(expected[e]!, actual[a]!) && go(e + 1, a + 1);
    memo.set(key, ok);
    return ok;
  };
  return go(0, 0);
}

function runShell(
  command: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  const prelude =
    'toold() { node "$TOOLD_DOC_CLI" --workspace "$TOOLD_DOC_WS" --socket "$TOOLD_DOC_SOCK" "$@"; }\nexec 2>&1\n';
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", prelude + command], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.stderr.on("data", (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output: Buffer.concat(chunks).toString("utf8") });
    });
  });
}

const markdown = readFileSync(DOC, "utf8");
const examples = parseExamples(markdown);

test("docs/tools.md: the example convention parses", () => {
  assert.ok(examples.length >= 40, `only ${examples.length} examples found`);
  const parsed = parseExamples(
    "```sh\n$ toold call x a=1  # exit 2\nout\n…\n\n$ echo '{}' |\n> toold call y -\n```\n",
  );
  assert.deepEqual(parsed, [
    { line: 2, command: "toold call x a=1", exit: 2, expected: ["out", "…"] },
    { line: 6, command: "echo '{}' |\ntoold call y -", exit: 0, expected: [] },
  ]);
  assert.ok(outputMatches(["a", "…", "d…f"], ["a", "b", "c", "def"]));
  assert.ok(outputMatches(["a", "…"], ["a"]));
  assert.ok(!outputMatches(["a", "b"], ["a", "c"]));
});

test("docs/tools.md: every example runs as shown", async (t) => {
  const d = await makeTestDaemon({ toml: FIXTURE_TOML, files: FIXTURE_FILES });
  try {
    const env: NodeJS.ProcessEnv = {
      ...d.env,
      TOOLD_DOC_CLI: CLI,
      TOOLD_DOC_WS: d.root,
      TOOLD_DOC_SOCK: d.socket,
      LC_ALL: "C",
    };
    const start = await d.cli(["start"], { env: { LC_ALL: "C" } });
    assert.equal(start.code, 0, start.stderr);

    // The doc covers every tool the daemon lists, every argument and every alias of each.
    await t.test("every tool, argument and alias is documented, with an example", async () => {
      const listed = await d.cli(["tools", "--json"]);
      assert.equal(listed.code, 0, listed.stderr);
      const tools = (
        JSON.parse(listed.stdout) as {
          tools: {
            name: string;
            aliases?: string[];
            inputSchema: { properties?: Record<string, unknown> };
          }[];
        }
      ).tools;
      const sections = new Map<string, string>();
      for (const part of markdown.split(/^## /m).slice(1)) {
        const title = /^`?([a-z_]+)`?/.exec(part)?.[1];
        if (title) sections.set(title, part);
      }
      for (const tool of tools) {
        const section = sections.get(tool.name);
        assert.ok(section, `docs/tools.md has no "## ${tool.name}" section`);
        for (const name of [...Object.keys(tool.inputSchema.properties ?? {}), ...(tool.aliases ?? [])]) {
          assert.ok(section.includes(`\`${name}\``), `the ${tool.name} section does not mention \`${name}\``);
        }
        const names = [tool.name, ...(tool.aliases ?? [])].join("|");
        const called = examples.some((ex) =>
          new RegExp(`toold call (?:--\\S+ )*(?:${names})\\b`).test(ex.command),
        );
        assert.ok(called, `no example calls ${tool.name}`);
      }
    });

    // The fixture the doc describes is the one the examples run in.
    await t.test("the introduction describes the fixture", () => {
      const intro = markdown.split(/^## /m)[0]!;
      for (const file of Object.keys(FIXTURE_FILES)) {
        assert.ok(intro.includes(file), `the introduction does not describe the fixture file ${file}`);
      }
    });

    for (const ex of examples) {
      const first = ex.command.split("\n")[0]!;
      await t.test(`line ${ex.line}: ${first.length > 90 ? `${first.slice(0, 87)}...` : first}`, async () => {
        const command = ex.command.split(SHOWN_ROOT).join(d.root);
        const { code, output } = await runShell(command, env, d.root);
        const shown = output.split(d.root).join(SHOWN_ROOT).replace(/\n+$/, "");
        const actual = shown === "" ? [] : shown.split("\n");
        const report =
          `docs/tools.md:${ex.line}\n$ ${ex.command}\n--- expected (exit ${ex.exit})\n${ex.expected.join("\n")}\n` +
          `--- actual (exit ${code})\n${shown}\n---`;
        // TOOLS_DOC_SHOW=FILE appends every example's expected and actual output to FILE.
        if (process.env.TOOLS_DOC_SHOW) appendFileSync(process.env.TOOLS_DOC_SHOW, `${report}\n`);
        assert.equal(code, ex.exit, `exit code differs\n${report}`);
        assert.ok(outputMatches(ex.expected, actual), `output differs\n${report}`);
      });
    }
  } finally {
    await d.cleanup();
  }
});
