/** "did you mean …": the known names closest to a mistyped one. */

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** The nearest names (up to three, all at the best distance), within a third of the typed length (1 to 3 edits). */
export function closest(typed: string, known: readonly string[]): string[] {
  const t = typed.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(t.length / 3)));
  return (
    known
      .map((name) => {
        const n = name.toLowerCase();
        const dist = n.startsWith(t) && t.length >= 2 ? 0.5 : editDistance(t, n);
        return { name, dist };
      })
      .filter((c) => c.dist <= limit)
      // A transposition keeps the length: among equals, the name as long as the typed one first.
      .sort(
        (x, y) =>
          x.dist - y.dist ||
          Math.abs(x.name.length - t.length) - Math.abs(y.name.length - t.length) ||
          x.name.localeCompare(y.name),
      )
      .filter((c, _, all) => c.dist === all[0]!.dist)
      .slice(0, 3)
      .map((c) => c.name)
  );
}

/** ` (did you mean "a" or "b"?)`, or "" when nothing is close. */
export function didYouMean(typed: string, known: readonly string[]): string {
  const names = closest(typed, known);
  if (names.length === 0) return "";
  const quoted = names.map((n) => `"${n}"`);
  return ` (did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`}?)`;
}
