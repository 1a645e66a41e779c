/**
 * `npm run parity -- --corpus DIR`: grep_file and list_files against rg on a real tree, for
 * queries of every kind (literal, regex, smart case, Unicode, word, globs, types, hidden,
 * no-ignore, invert). Each query runs twice on one fresh daemon: first (the cold search, while
 * the index builds) and warm. The sets of (path, line) must equal rg's; when toold stops at
 * max_results, its set must be inside rg's. Exits 1 on any difference.
 *
 * The test suite checks the same on a small fixture with columns (test/tools/*.rg-parity.test.ts);
 * this runs it where the surprises are, on a corpus of real repositories.
 */
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { grepLines, rgLines } from "./bench/search-rows.js";
import { connectLsp, waitForSocket } from "./bench/socket.js";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const DAEMON = path.join(REPO, "dist/daemon/entry.js");

interface Query {
  readonly args: Record<string, unknown>;
  /** rg's flags for the same search (before the pattern). */
  readonly rg: readonly string[];
  /** Keeps the rg output lines the query selects (a filter rg has no flag for). */
  readonly keep?: (line: string) => boolean;
}

const grep = (pattern: string, args: Record<string, unknown> = {}, rg: string[] = []): Query => ({
  args: { pattern, ...args },
  rg: [...rg, "-e", pattern],
});

const QUERIES: readonly Query[] = [
  grep("createElement", { literal: true }, ["-F"]),
  grep("TODO"),
  grep("todo|fixme"),
  grep("^#include <"),
  grep("\\bunsafe\\b"),
  grep("impl\\s+\\w+\\s+for"),
  grep("a.b.c", { literal: true }, ["-F"]),
  grep("[A-Z]{5,}_[A-Z]+"),
  grep("\\d{4}-\\d{2}-\\d{2}"),
  grep("size_t", { word_boundaries: true }, ["-w"]),
  grep("réponse|über|naïve"),
  grep("\\w+ü\\w*"),
  grep("λ|ß|ſ"),
  grep("return;$"),
  grep("async\\s+function\\*"),
  grep("Copyright", { case_sensitive: false }, ["-i"]),
  grep("EXPORT", { case_sensitive: true }, ["-s"]),
  grep("[[:upper:]]{3}[[:digit:]]"),
  grep("\\p{Greek}+"),
  grep("^$"),
  grep("\\s+$"),
  grep("\\$\\{"),
  grep("require\\(['\"]"),
  grep("import", { type: "ts" }, ["-t", "ts"]),
  grep("license", { glob_pattern: "*.md" }, ["-g", "*.md"]),
  // A glob brings in what it names even when ignored or hidden, as rg's -g does.
  grep("e", { glob_pattern: "*.json", max_results: 10_000 }, ["-g", "*.json"]),
  grep("e", { glob_pattern: "**/*.ts" }, ["-g", "**/*.ts"]),
  grep("license", { exclude: ["*.md", "*.json"] }, ["-g", "!*.md", "-g", "!*.json"]),
  grep("foo", { include_hidden: true }, ["--hidden", "-g", "!.git"]),
  grep("foo", { respect_ignore_files: false }, ["--no-ignore"]),
];

const FILE_LISTS: readonly Query[] = [
  { args: {}, rg: [] },
  { args: { exclude: ["*.md", "test/"] }, rg: ["-g", "!*.md", "-g", "!test/"] },
  // A filter, not rg's -g (which would re-include ignored files).
  {
    args: { file_extensions: ["ts", "tsx", "rs", "c", "h"] },
    rg: [],
    keep: (p) => /\.(ts|tsx|rs|c|h)$/.test(p),
  },
  // find_name matches names; unlike rg's -g it does not bring in hidden files.
  { args: { name_pattern: "*.json" }, rg: ["-g", "*.json"], keep: (p) => !/(^|\/)\./.test(p) },
];

const MAX_RESULTS = 10_000;

function rgOutput(corpus: string, flags: readonly string[], listing: boolean): Set<string> {
  const args = listing
    ? ["--files", "--no-config", "--no-require-git", ...flags, "."]
    : ["-n", "--no-heading", "--no-config", "--no-require-git", "-S", ...flags, "."];
  const r = spawnSync("rg", args, { cwd: corpus, encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status === 2) throw new Error(`rg ${args.join(" ")}: ${r.stderr}`);
  if (!listing) return rgLines(r.stdout);
  return new Set(
    r.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => line.replace(/^\.\//, "")),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { corpus: { type: "string" } } });
  const corpus = path.resolve(values.corpus ?? process.env.TOOLD_BENCH_CORPUS ?? "../bench-corpus");
  if (spawnSync("rg", ["--version"]).status !== 0) throw new Error("ripgrep (rg) is not installed");
  const dir = mkdtempSync(path.join(os.tmpdir(), "toold-parity-"));
  const socket = path.join(dir, "d.sock");
  const daemon = spawn(
    process.execPath,
    [DAEMON, "--workspace", corpus, "--socket", socket, "--foreground"],
    {
      stdio: "ignore",
    },
  );
  let differences = 0;
  try {
    await waitForSocket(socket, 30_000);
    const { conn, close } = await connectLsp(socket);
    const call = (name: string, args: Record<string, unknown>) =>
      conn.sendRequest("tools/call", { name, arguments: args }) as Promise<{
        content: { text: string }[];
        structuredContent?: Record<string, unknown>;
      }>;
    for (const round of ["first", "warm"]) {
      for (const q of QUERIES) {
        const r = await call("grep_file", { path: ".", max_results: MAX_RESULTS, ...q.args });
        const ours = grepLines(r);
        differences += report(
          corpus,
          round,
          "grep_file",
          q,
          ours,
          rgOutput(corpus, q.rg, false),
          r.structuredContent?.["truncated"] === true,
        );
      }
      for (const q of FILE_LISTS) {
        const args = { path: ".", recursive: true, paths_only: true, max_items: 100_000, per_page: 100_000 };
        const r = await call("list_files", {
          ...args,
          ...(q.args["name_pattern"] ? { recursive: undefined } : {}),
          ...q.args,
        });
        const ours = new Set(r.content[0]!.text.split("\n").filter((l) => l && !l.startsWith("(")));
        // rg --files lists no symlinks; list_files shows them (without following them).
        const theirs = new Set([...rgOutput(corpus, q.rg, true)].filter(q.keep ?? (() => true)));
        for (const p of ours) if (!theirs.has(p) && isSymlink(path.join(corpus, p))) ours.delete(p);
        differences += report(corpus, round, "list_files", q, ours, theirs, false);
      }
    }
    close();
  } finally {
    daemon.kill("SIGTERM");
    await new Promise((r) => daemon.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(differences === 0 ? "parity: no differences" : `parity: ${differences} queries differ`);
  process.exitCode = differences === 0 ? 0 : 1;
}

const nulFiles = new Map<string, boolean>();
/** Whether the file of a "path:line" result holds a NUL byte. */
function hasNul(corpus: string, result: string): boolean {
  const file = result.replace(/:\d+$/, "");
  let known = nulFiles.get(file);
  if (known === undefined) {
    known = readFileSync(path.join(corpus, file)).includes(0);
    nulFiles.set(file, known);
  }
  return known;
}

function isSymlink(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

/** Prints one query's comparison; 1 when it differs. */
function report(
  corpus: string,
  round: string,
  tool: string,
  q: Query,
  ours: Set<string>,
  theirs: Set<string>,
  truncated: boolean,
): number {
  const onlyOurs = [...ours].filter((x) => !theirs.has(x));
  // A known difference (docs/tools.md): rg reports what it read of a file before its first NUL.
  const onlyRg = truncated ? [] : [...theirs].filter((x) => !ours.has(x) && !hasNul(corpus, x));
  const same = onlyOurs.length === 0 && onlyRg.length === 0;
  const what = `${round} ${tool} ${JSON.stringify(q.args)}: ${ours.size} vs rg ${theirs.size}${truncated ? " (toold stopped at max_results)" : ""}`;
  console.log(`${same ? "same" : "DIFF"} ${what}`);
  if (!same)
    console.log(
      `  only toold: ${onlyOurs.slice(0, 5).join(", ")}\n  only rg: ${onlyRg.slice(0, 5).join(", ")}`,
    );
  return same ? 0 : 1;
}

await main();
