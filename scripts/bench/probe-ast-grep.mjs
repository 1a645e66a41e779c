// The cold baseline of the code_search rows: a fresh process loads ast-grep (@ast-grep/napi),
// walks the folder with its own parallel walker (it honours .gitignore, as sg does) and matches
// the pattern in every file of the language. Prints the number of matches.
// Usage: node probe-ast-grep.mjs DIR LANGUAGE PATTERN
import process from "node:process";
import { findInFiles } from "@ast-grep/napi";

const [dir, language, pattern] = process.argv.slice(2);
let matches = 0;
let called = 0;
let expected = Infinity;
let done;
const finished = new Promise((resolve) => (done = resolve));
const onFile = (err, nodes) => {
  if (err) throw err;
  matches += nodes.length;
  if (++called >= expected) done();
};
// The promise gives the number of files the callback is called for; some calls may come later.
expected = await findInFiles(language, { paths: [dir], matcher: { rule: { pattern } } }, onFile);
if (called < expected) await finished;
process.stdout.write(`${matches}\n`);
