/** "Did you mean …": the known name nearest to a misspelt one, for config keys, tools and arguments. */

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1, so `delete_fiel` is 1 from `delete_file`.
 */
export function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, (before[j - 2] ?? 0) + 1);
      }
      current[j] = d;
    }
    before = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The name in `names` closest to `given`, compared without case, `_`, `-` and plural endings, or undefined when
 * none is close enough to be a plausible typo (at most a third of the name's length, at least 1,
 * at most 3 edits; a prefix of at least 4 characters counts as 1).
 */
export function nearestName(given: string, names: Iterable<string>): string | undefined {
  // Case, separators and a plural ending (`policy` for `policies`) are not typos worth counting.
  const fold = (s: string) => s.toLowerCase().replace(/[_-]/g, "").replace(/ies$/, "y").replace(/s$/, "");
  const g = fold(given);
  let best: string | undefined;
  let bestScore = Infinity;
  for (const name of names) {
    const n = fold(name);
    // A cut-short or extended name (`idle_timeout` for `idle_timeout_secs`) is one step away.
    const prefix = Math.min(n.length, g.length) >= 4 && (n.startsWith(g) || g.startsWith(n));
    const score = prefix ? Math.min(1, editDistance(g, n)) : editDistance(g, n);
    if (score < bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return bestScore <= Math.min(3, Math.max(1, Math.floor(g.length / 3))) ? best : undefined;
}
