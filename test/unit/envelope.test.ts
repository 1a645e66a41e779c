/**
 * The envelope check in memory (src/protocol/envelope.ts): what the reader hands vscode-jsonrpc,
 * and the error it answers for everything else, including nesting too deep to walk.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_JSON_DEPTH, nestsDeeperThan, parseMessage } from "../../src/protocol/envelope.js";

const deep = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

test("valid requests, notifications and responses pass; a request without params gets {}", () => {
  assert.deepEqual(parseMessage('{"jsonrpc":"2.0","id":1,"method":"tools/list"}').message, {
    jsonrpc: "2.0",
    id: 1,
    method: "tools/list",
    params: {},
  });
  assert.ok(parseMessage('{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"a"}}').message);
  assert.ok(parseMessage('{"jsonrpc":"2.0","id":"x","result":{"approved":true}}').message);
  assert.ok(parseMessage('{"jsonrpc":"2.0","id":3,"error":{"code":1,"message":"m"}}').message);
});

test("malformed envelopes get -32700/-32600 with the id when it can be read", () => {
  const cases: [string, number, unknown][] = [
    ["{oops", -32700, null],
    ["[]", -32600, null],
    ["42", -32600, null],
    ['{"jsonrpc":"1.0","id":7,"method":"m"}', -32600, 7],
    ['{"jsonrpc":"2.0","id":{},"method":"m"}', -32600, null],
    ['{"jsonrpc":"2.0","id":2,"method":""}', -32600, 2],
    ['{"jsonrpc":"2.0","id":2,"method":"m","params":3}', -32600, 2],
    ['{"jsonrpc":"2.0","id":2}', -32600, 2],
    ['{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":[1]}}', -32602, null],
    ['{"jsonrpc":"2.0","method":"$/cancelRequest","params":{}}', -32602, null],
  ];
  for (const [text, code, id] of cases) {
    const { problem } = parseMessage(text);
    assert.equal(problem?.code, code, text);
    assert.equal(problem?.id, id, text);
    assert.equal(problem?.fatal, false, text);
  }
});

test("nesting past MAX_JSON_DEPTH: -32602 with the id for a request, -32600 otherwise", () => {
  const path = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"read_file","arguments":{"path":${deep(100_000)}}}}`;
  const call = parseMessage(path).problem;
  assert.equal(call?.code, -32602);
  assert.equal(call?.id, 5);
  assert.match(call?.message ?? "", /nested deeper than 64 levels/);
  const cancel = parseMessage(
    `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":${deep(100_000)}}}`,
  );
  assert.equal(cancel.problem?.code, -32600);
  assert.equal(cancel.problem?.id, null);
  // The deep value is the id itself: it cannot be echoed.
  assert.equal(parseMessage(`{"jsonrpc":"2.0","id":${deep(1000)},"method":"m"}`).problem?.id, null);
  // Exactly at the limit passes (the envelope object is level 1).
  const atLimit = `{"jsonrpc":"2.0","id":1,"method":"m","params":${deep(MAX_JSON_DEPTH - 1)}}`;
  assert.equal(parseMessage(atLimit).problem?.code, undefined);
});

test("depth counting ignores brackets inside strings, escaped quotes included (fast-check)", () => {
  const depthOf = (v: unknown): number =>
    typeof v === "object" && v !== null
      ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf))
      : 0;
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 0, max: 8 }), (value, limit) => {
      const text = JSON.stringify(value);
      assert.equal(nestsDeeperThan(text, limit), depthOf(value) > limit, text);
    }),
    { numRuns: 1000 },
  );
  assert.equal(nestsDeeperThan(JSON.stringify({ s: '\\"[[[[[[\\' }), 1), false);
});
