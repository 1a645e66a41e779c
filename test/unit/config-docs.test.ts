import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { docsPath, renderDoc } from "../../scripts/gen-config-docs.js";

test("docs/configuration.md lists every key as the schema defines it (run npm run docs:config)", () => {
  const current = readFileSync(docsPath(), "utf8");
  assert.equal(current, renderDoc(current));
});
