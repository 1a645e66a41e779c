/**
 * The CLI's quiet seams, in memory: "did you mean" (edit distance and the choice of names), the
 * schema types `toold tools` prints, where the runtime and state folders are (they must not follow
 * XDG_RUNTIME_DIR or TMPDIR), and the platform check.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { closest, didYouMean } from "../../src/cli/suggest.js";
import { editDistance } from "../../src/support/nearest.js";
import { schemaType } from "../../src/cli/format.js";
import {
  logDir,
  runtimeDir,
  runtimeFiles,
  socketPathFor,
  stateDir,
  unsupportedPlatform,
} from "../../src/workspace/locate.js";

const word = fc.string({ unit: fc.constantFrom(..."abcdefgh_"), maxLength: 12 });

describe("edit distance", () => {
  it("is a metric-like distance: zero on equals, symmetric, bounded by the longer length", () => {
    fc.assert(
      fc.property(word, word, (a, b) => {
        const d = editDistance(a, b);
        assert.equal(d, editDistance(b, a));
        assert.equal(d === 0, a === b);
        assert.ok(d <= Math.max(a.length, b.length));
        assert.ok(d >= Math.abs(a.length - b.length));
      }),
    );
  });

  it("counts one edit, one insertion, one deletion and one transposition as 1", () => {
    fc.assert(
      fc.property(
        word.filter((w) => w.length >= 2),
        fc.nat(),
        (w, n) => {
          const i = n % (w.length - 1);
          const swapped = w.slice(0, i) + w[i + 1] + w[i] + w.slice(i + 2);
          assert.ok(editDistance(w, swapped) <= 1);
          assert.equal(editDistance(w, w.slice(0, i) + w.slice(i + 1)), 1);
          assert.equal(editDistance(w, `${w.slice(0, i)}z${w.slice(i)}`), 1);
        },
      ),
    );
  });
});

describe("did you mean", () => {
  it("a known name is its own best suggestion", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          word.filter((w) => w.length > 0),
          { minLength: 1, maxLength: 8 },
        ),
        fc.nat(),
        (names, n) => {
          const name = names[n % names.length]!;
          assert.equal(closest(name, names)[0], name);
        },
      ),
    );
  });

  it("suggests typos of real names and nothing for unrelated words", () => {
    const tools = ["read_file", "write_file", "grep_file", "list_files", "edit_file", "run_terminal_cmd"];
    assert.equal(didYouMean("reed_file", tools), ' (did you mean "read_file"?)');
    assert.equal(didYouMean("run_terminal", tools), ' (did you mean "run_terminal_cmd"?)');
    assert.equal(didYouMean("zzzzzz", tools), "");
    assert.equal(
      didYouMean("stauts", ["start", "status", "stats"]).startsWith(' (did you mean "status"'),
      true,
    );
  });
});

describe("schema types in `toold tools`", () => {
  it("shows enums, unions, consts, arrays and ranges instead of any", () => {
    assert.equal(
      schemaType({
        anyOf: [
          { const: "list", type: "string" },
          { const: "recursive", type: "string" },
        ],
      }),
      '"list" | "recursive"',
    );
    assert.equal(schemaType({ enum: ["a", "b"] }), '"a" | "b"');
    assert.equal(schemaType({ type: "array", items: { type: "string" } }), "string[]");
    assert.equal(schemaType({ type: "array", items: { enum: [1, 2] } }), "(1 | 2)[]");
    assert.equal(schemaType({ type: "integer", minimum: 1, maximum: 50 }), "integer 1..50");
    assert.equal(
      schemaType({ anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] }),
      "string | string[]",
    );
    assert.equal(
      schemaType({ type: "object", properties: { a: { type: "string" } }, required: ["a"] }),
      "{a: string}",
    );
    assert.equal(schemaType({}), "any");
  });
});

describe("where the per-user folders are", () => {
  it("the socket and registry do not follow XDG_RUNTIME_DIR or TMPDIR; TOOLD_RUNTIME_DIR moves them", () => {
    const ws = "/home/u/project";
    const plain = socketPathFor(ws, undefined, {}, 1000);
    assert.equal(plain, socketPathFor(ws, undefined, { XDG_RUNTIME_DIR: "/run/user/1000" } as never, 1000));
    assert.ok(plain.startsWith("/tmp/toold-1000/"));
    assert.equal(runtimeDir({}, 1000), "/tmp/toold-1000");
    assert.equal(runtimeDir({ TOOLD_RUNTIME_DIR: "/x/rt" }, 1000), "/x/rt");
    // An explicit socket moves the socket, never the lock: one lock per workspace.
    const a = runtimeFiles(ws, "/a/s.sock", {}, 1000);
    const b = runtimeFiles(ws, "/b/t.sock", {}, 1000);
    assert.equal(a.state, b.state);
    assert.notEqual(runtimeFiles("/home/u/other", "/a/s.sock", {}, 1000).state, a.state);
  });

  it("logs and the journal live in the state folder", () => {
    assert.equal(stateDir({ HOME: "/home/u" }), "/home/u/.local/state/toold");
    assert.equal(stateDir({ HOME: "/home/u", XDG_STATE_HOME: "/s" }), "/s/toold");
    assert.equal(stateDir({ HOME: "/home/u", XDG_STATE_HOME: "relative" }), "/home/u/.local/state/toold");
    assert.equal(stateDir({ TOOLD_STATE_DIR: "/t", XDG_STATE_HOME: "/s" }), "/t");
    assert.equal(logDir({ TOOLD_STATE_DIR: "/t" }), "/t/logs");
  });

  it("says plainly that Windows is not supported", () => {
    assert.match(unsupportedPlatform("win32") ?? "", /Windows is not supported.*WSL/);
    assert.equal(unsupportedPlatform("linux"), undefined);
    assert.equal(unsupportedPlatform("darwin"), undefined);
  });
});
