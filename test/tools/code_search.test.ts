/** code_search: ast-grep patterns over the workspace, warm (index + file cache) and cold. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { makeTestWorkspace, textOf, type TestWorkspace } from "../helpers/tool-context.js";
import { assertInvalidParams, assertOk, assertToolError, sc } from "../helpers/write-tools.js";

const FILES = {
  ".gitignore": "ignored/\n",
  "src/app.ts":
    "import { x } from './x';\n\nfunction greet(name: string) {\n  console.log(`hi ${name}`);\n}\n\nexport function main() {\n  greet('a');\n  console.log(x);\n}\n\nconst arrow = () => 1;\n",
  "src/view.tsx": "export function View() {\n  return <div>{console.log('v')}</div>;\n}\n",
  "lib/util.js": "function util(a, b) { return a + b; }\n",
  "py/tool.py": "def helper(x):\n    print(x)\n    return x\n",
  "rs/main.rs": "fn main() {\n    let v: Option<u8> = None;\n    v.unwrap();\n}\n",
  "go/main.go": 'package main\n\nfunc main() {\n\tprintln("hi")\n}\n',
  "ignored/skip.ts": "function skipped() {}\n",
  "notes.txt": "function notCode() {}\n",
};

type R = {
  path: string;
  line: number;
  column: number;
  text: string;
  match: string;
  captures?: Record<string, unknown>;
};

for (const warm of [true, false]) {
  describe(`code_search (${warm ? "warm: index and file cache" : "cold: walk"})`, () => {
    let ws: TestWorkspace;
    before(async () => {
      ws = await makeTestWorkspace({ warm });
      await ws.write(FILES);
    });
    after(() => ws.cleanup());

    it("finds `function $NAME($$$) { $$$ }` in TypeScript, with ranges and captures", async () => {
      const r = await ws.call("code_search", {
        pattern: "function $NAME($$$) { $$$ }",
        language: "typescript",
      });
      assertOk(r);
      const results = sc(r).results as R[];
      assert.deepEqual(
        results.map((m) => [m.path, m.line, m.column, m.captures?.NAME]),
        [
          ["src/app.ts", 3, 1, "greet"],
          ["src/app.ts", 7, 8, "main"],
        ],
      );
      assert.equal(results[0]!.text, "function greet(name: string) {");
      assert.match(results[0]!.match, /^function greet\(name: string\) \{\n {2}console\.log/);
      assert.deepEqual(sc(r).results[0].range, {
        start: { line: 3, column: 1 },
        end: { line: 5, column: 2 },
      });
      assert.equal(
        textOf(r),
        "src/app.ts:3:1: function greet(name: string) {\nsrc/app.ts:7:8: export function main() {",
      );
    });

    it("infers languages from extensions and skips ignored and unknown files", async () => {
      const r = await ws.call("code_search", { pattern: "function $NAME($$$) { $$$ }" });
      const paths = (sc(r).results as R[]).map((m) => `${m.path}:${m.line}`);
      assert.deepEqual(paths, ["lib/util.js:1", "src/app.ts:3", "src/app.ts:7", "src/view.tsx:1"]);
      assert.ok(!(sc(r).languages as string[]).includes("python"));
    });

    it("searches Python, Rust and Go through their registered parsers", async () => {
      const py = await ws.call("code_search", { pattern: "def $F($$$): $$$", language: "python" });
      assert.deepEqual(
        (sc(py).results as R[]).map((m) => m.captures?.F),
        ["helper"],
      );
      const rs = await ws.call("code_search", { pattern: "$X.unwrap()", language: "rust" });
      assert.deepEqual(
        (sc(rs).results as R[]).map((m) => [m.path, m.line, m.captures?.X]),
        [["rs/main.rs", 3, "v"]],
      );
      const go = await ws.call("code_search", { pattern: "println($$$ARGS)", language: "go" });
      assert.deepEqual(
        (sc(go).results as R[]).map((m) => m.captures?.ARGS),
        [['"hi"']],
      );
    });

    it("narrows by path and bounds results with max_results", async () => {
      const one = await ws.call("code_search", { pattern: "console.log($A)", path: "src/app.ts" });
      assert.deepEqual(
        (sc(one).results as R[]).map((m) => m.line),
        [4, 9],
      );
      const capped = await ws.call("code_search", { pattern: "console.log($A)", max_results: 1 });
      assert.equal((sc(capped).results as R[]).length, 1);
      assert.equal(sc(capped).truncated, true);
      assert.match(textOf(capped), /showing the first 1 of 3 matches/);
    });

    it("reports no match as an error result that says what was searched", async () => {
      const r = await ws.call("code_search", { pattern: "eval($A)", language: "typescript" });
      assertToolError(r, /No matches for "eval\(\$A\)" in \. \(1 file of typescript searched\)/);
    });

    it("refuses a pattern that does not parse, an unknown language and a file of another language", async () => {
      await assertInvalidParams(
        ws.call("code_search", { pattern: "function (", language: "typescript" }),
        /pattern "function \(" does not parse as typescript/,
      );
      await assertInvalidParams(
        ws.call("code_search", { pattern: "foo(" }),
        /does not parse in any supported language/,
      );
      await assertInvalidParams(
        ws.call("code_search", { pattern: "f($A)", language: "cobol" }),
        /language: expected one of "typescript", "tsx"/,
      );
      assertToolError(
        await ws.call("code_search", { pattern: "f($A)", path: "notes.txt" }),
        /is not a file of/,
      );
      assertToolError(
        await ws.call("code_search", { pattern: "f($A)", path: "../x" }),
        /outside the workspace/,
      );
    });

    it("keeps path order and an exact total when files finish out of order", async () => {
      // Large files first: their parses end after the small ones behind them.
      const many: Record<string, string> = {};
      const big = "export const pad = 1;\n".repeat(20000);
      for (let i = 0; i < 24; i++) {
        const name = `order/f${String(i).padStart(2, "0")}.ts`;
        many[name] =
          `${i < 6 ? big : ""}export function f${i}() {\n  return ${i};\n}\nexport function g${i}() {}\n`;
      }
      await ws.write(many);
      const pattern = "export function $NAME($$$) { $$$ }";
      const all = await ws.call("code_search", { pattern, path: "order", max_results: 1000 });
      const names = (sc(all).results as R[]).map((m) => `${m.path}:${m.line}`);
      assert.equal(sc(all).total_matches, 48);
      assert.deepEqual(names, [...names].sort());
      const capped = await ws.call("code_search", { pattern, path: "order", max_results: 5 });
      assert.deepEqual(
        (sc(capped).results as R[]).map((m) => `${m.path}:${m.line}`),
        names.slice(0, 5),
      );
      assert.equal(sc(capped).total_matches, 48);
    });
  });
}
