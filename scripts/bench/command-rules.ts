/**
 * Row k: what checking a command against `[commands]` costs per call (issue #12, item 11). The
 * line is parsed with unbash and every simple command unwrapped; this measures that for lines
 * agents send (a short one, a chain with wrappers and a substitution, a 2 KB script), against
 * the same call with no rules set (nothing is parsed then), side by side in one process.
 */
import { evaluateCommand, type CommandRules } from "../../src/policy/commands.js";

interface Measured {
  figure: string;
  baseline: string;
  result: string;
  ratio: string;
}

const none: CommandRules = {
  allow_list: [],
  deny_list: [],
  allow_glob: [],
  deny_glob: [],
  allow_regex: [],
  deny_regex: [],
};
const rules: CommandRules = { ...none, deny_list: ["rm", "curl"], deny_glob: ["git push *--force*"] };

const LINES: [string, string][] = [
  ["short line (`npm test`)", "npm test"],
  [
    "chain with wrappers and a substitution",
    'cd pkg && sudo -n timeout 60 env CI=1 npm run build 2>&1 | tee "build-$(date +%s).log"',
  ],
  [
    "2 KB script (loops, functions, here-doc)",
    Array.from(
      { length: 24 },
      (_, i) => `f${i}() { for x in $(ls src); do grep -q "t${i}" "$x" && echo "$x"; done; }; f${i}`,
    ).join("\n"),
  ],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

/** Median µs per evaluation over `runs` rounds of `reps` evaluations. */
function timeIt(r: CommandRules, line: string, runs: number, reps: number): number {
  const rounds: number[] = [];
  for (let k = 0; k < runs; k++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) evaluateCommand(r, line);
    rounds.push(((performance.now() - t) * 1000) / reps);
  }
  return median(rounds);
}

export function commandRuleRows(runs: number): Measured[] {
  return LINES.map(([label, line]) => {
    timeIt(rules, line, 2, 200); // warm up the parser's code paths
    const base = timeIt(none, line, Math.max(3, runs), 2000);
    const checked = timeIt(rules, line, Math.max(3, runs), 500);
    return {
      figure: `[commands] check per call: ${label}`,
      baseline: `${base.toFixed(2)} µs (no rules)`,
      result: `${checked.toFixed(1)} µs (deny_list + deny_glob)`,
      ratio: `+${(checked - base).toFixed(1)} µs`,
    };
  });
}

if (process.argv[1]?.endsWith("command-rules.ts")) {
  for (const row of commandRuleRows(7))
    console.log(`${row.figure}: ${row.baseline} → ${row.result} (${row.ratio})`);
}
