// The cold baseline of the code_search rows: a fresh process loads ast-grep (@ast-grep/napi),
// walks the folder with its own parallel walker (it honours .gitignore, as sg does) and matches
// the pattern in every file of the language. Prints the number of matches.
// Usage: node probe-ast-grep.mjs DIR LANGUAGE PATTERN
import process from "node:process";
import { findInFiles } from "@ast-grep/napi";

const [dir, language, pattern] = process.argv.slice(2);
let matches = 0;
let pending = 0;
let done;
const finished = new Promise((resolve) => (done = resolve));
const files = await findInFiles(language, { paths: [dir], matcher: { rule: { pattern } } }, (err, nodes) => {
  if (err) throw err;
  matches += nodes.length;
  if (++pending === files) done();
});
// The promise gives the number of files with results; their callbacks may still be queued.
if (pending < files) await finished;
process.stdout.write(`${matches}\n`);
