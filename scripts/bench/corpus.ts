/**
 * Bench corpora: the small generated one of `--quick` (CI), and facts about any corpus folder.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { lstatSync, readdirSync } from "node:fs";
import path from "node:path";

const WORDS = [
  "render",
  "props",
  "state",
  "dispatch",
  "reducer",
  "observable",
  "subscribe",
  "value",
  "index",
  "buffer",
  "length",
  "result",
  "error",
  "handler",
  "promise",
  "resolve",
  "reject",
  "config",
  "options",
];

/** A deterministic pseudo-random generator, so every quick corpus is the same. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Writes `files` TypeScript-like files (~`avgBytes` each) in nested folders under `dir`. */
export async function makeQuickCorpus(dir: string, files = 600, avgBytes = 6000): Promise<void> {
  const rand = rng(42);
  const pick = () => WORDS[Math.floor(rand() * WORDS.length)]!;
  for (let i = 0; i < files; i++) {
    const folder = path.join(dir, "src", `pkg${i % 12}`, `mod${i % 7}`);
    await mkdir(folder, { recursive: true });
    const lines: string[] = [];
    let size = 0;
    while (size < avgBytes) {
      const r = rand();
      const line =
        r < 0.05
          ? `export async function ${pick()}${Math.floor(rand() * 100)}Async(${pick()}: number) {`
          : r < 0.3
            ? `  const ${pick()}${i} = ${pick()}.${pick()}(${pick()}, ${Math.floor(rand() * 1000)});`
            : r < 0.303
              ? `  return React.createElement("div", ${pick()});`
              : r < 0.31
                ? `export class ${pick()}${i} extends ${pick()}Base {`
                : `  // ${pick()} ${pick()} ${pick()} ${pick()}`;
      lines.push(line);
      size += line.length + 1;
    }
    await writeFile(path.join(folder, `file${i}.ts`), `${lines.join("\n")}\n`);
  }
  await writeFile(path.join(dir, "small.txt"), "a small file\nfor read_file round trips\n");
}

export interface CorpusFacts {
  files: number;
  bytes: number;
  dirs: number;
}

/** Counts regular files and their bytes (no symlinks followed, .git skipped). */
export function corpusFacts(dir: string): CorpusFacts {
  const facts: CorpusFacts = { files: 0, bytes: 0, dirs: 0 };
  const stack = [dir];
  while (stack.length > 0) {
    const d = stack.pop()!;
    facts.dirs++;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name === ".git") continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.isFile()) {
        facts.files++;
        facts.bytes += lstatSync(p).size;
      }
    }
  }
  return facts;
}

/** The first regular file below `dir` (sorted walk) of at most `maxBytes`, relative to `dir`. */
export function findSmallFile(dir: string, maxBytes = 2048): string | undefined {
  const stack = [""];
  while (stack.length > 0) {
    const rel = stack.shift()!;
    const entries = readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    );
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const r = rel === "" ? e.name : `${rel}/${e.name}`;
      if (
        e.isFile() &&
        lstatSync(path.join(dir, r)).size <= maxBytes &&
        lstatSync(path.join(dir, r)).size > 0
      )
        return r;
      if (e.isDirectory()) stack.push(r);
    }
  }
  return undefined;
}
