/** Shared assertions for the tests of the write tools (write_file, edit_file, apply_patch, …). */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { isTempName } from "../../src/support/fs-atomic.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import type { ToolResult } from "../../src/tools/shared/types.js";
import { textOf } from "./tool-context.js";

/** Every leftover temp file of writeFileAtomic below `root`. */
export async function tempFilesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (isTempName(entry.name) || entry.name.includes(".toold-")) found.push(abs);
      if (entry.isDirectory() && !entry.isSymbolicLink()) await walk(abs);
    }
  };
  await walk(root);
  return found;
}

export async function assertNoTempFiles(root: string): Promise<void> {
  assert.deepEqual(await tempFilesUnder(root), []);
}

/** The call must be rejected by validation with JSON-RPC -32602. Returns the message. */
export async function assertInvalidParams(promise: Promise<unknown>, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${String(err)}`);
    assert.equal(err.code, -32602);
    if (pattern) assert.match(err.message, pattern);
    return true;
  });
}

/** The result must be a tool error whose text matches `pattern`. */
export function assertToolError(result: ToolResult, pattern: RegExp): void {
  assert.equal(result.isError, true, `expected isError, got: ${textOf(result)}`);
  assert.match(textOf(result), pattern);
}

export function assertOk(result: ToolResult): void {
  assert.ok(!result.isError, `expected success, got error: ${textOf(result)}`);
}

/** A structuredContent object, typed loosely for assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = Record<string, any>;

/** structuredContent, typed loosely for assertions. */
export function sc(result: ToolResult): Loose {
  assert.ok(result.structuredContent, "result has no structuredContent");
  return result.structuredContent as Loose;
}
