/**
 * Random workspaces for the search property tests: files of short and very long lines (minified
 * code: the fast paths never decode those whole) in LF, CRLF, with a BOM, without a final newline
 * or binary, and how a list of them becomes a tree.
 */
import fc from "fast-check";

const NAMES = ["a", "b", ".h", "src", "x.ts", "y.md", "z.log", "K.txt", "w.js"];
const WORDS = ["foo", "Foo", "FOO", "bar", "kelvin", "\u212aelvin", "class X extends Y", "ſ", "é", "x", "😀"];

const lineArb = fc.oneof(
  { weight: 8, arbitrary: fc.array(fc.constantFrom(...WORDS), { maxLength: 6 }).map((w) => w.join(" ")) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(...WORDS), fc.integer({ min: 0, max: 9000 }), fc.constantFrom("", "é", "😀"))
      .map(([w, n, pad]) => `${"a".repeat(n)}${pad}${w}${pad}${"b".repeat(n % 700)} foo`),
  },
);

export const fileArb = fc.record({
  dir: fc.array(fc.constantFrom(...NAMES.slice(0, 4)), { maxLength: 3 }),
  name: fc.constantFrom(...NAMES),
  lines: fc.array(lineArb, { maxLength: 8 }),
  form: fc.constantFrom("lf", "lf", "lf", "crlf", "bom", "binary", "no-final-newline"),
});

export type RandomFile = typeof fileArb extends fc.Arbitrary<infer F> ? F : never;

/** A generated file's bytes. */
export function contentOf(f: RandomFile): string | Buffer {
  const text = f.lines.join(f.form === "crlf" ? "\r\n" : "\n");
  if (f.form === "no-final-newline") return text;
  if (f.form === "bom") return `\ufeff${text}\n`;
  if (f.form === "binary") return Buffer.concat([Buffer.from(`${text}\n`), Buffer.from([0, 1, 2])]);
  return `${text}${f.form === "crlf" ? "\r\n" : "\n"}`;
}

/**
 * The files as a tree (relative path → content, for `TestWorkspace.write`): a name used as a
 * folder elsewhere in the tree stays a folder, and the file is left out.
 */
export function treeOf<F extends { dir: string[]; name: string }>(
  files: readonly F[],
  content: (f: F) => string | Buffer,
): Record<string, string | Buffer> {
  const written = new Map<string, string | Buffer>();
  for (const f of files) {
    const rel = [...f.dir, f.name].join("/");
    if ([...written.keys()].some((k) => k.startsWith(`${rel}/`) || rel.startsWith(`${k}/`))) continue;
    written.set(rel, content(f));
  }
  return Object.fromEntries(written);
}
