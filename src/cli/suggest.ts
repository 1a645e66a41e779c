/** "did you mean …": the known names closest to a mistyped one. */
import { editDistance } from "../support/nearest.js";

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
