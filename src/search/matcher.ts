/**
 * Line matchers with ripgrep's semantics, on RE2 (linear time: no pattern can stall the daemon).
 *
 * - Regex syntax is RE2's, which is ripgrep's default syntax; lookaround and backreferences are
 *   refused (neither engine has them) with a message that suggests `literal` or a simpler pattern.
 * - `\w`, `\d`, `\s` and their negations are Unicode-aware, as in ripgrep (RE2's are ASCII).
 *   `\b` / `\B` stay ASCII word boundaries (RE2 has no Unicode ones); `word_boundaries` is Unicode.
 * - Smart case (the default): case-insensitive unless the pattern has an uppercase literal
 *   character (ripgrep -S); `caseSensitive` true/false overrides it (rg -s / -i).
 * - `wordBoundaries` is ripgrep 13's -w: the match must be preceded by the start of the line or a
 *   non-word character and followed by the end of the line or a non-word character.
 * - Matching is per line: a match never spans a line break. Offsets are UTF-16 code units.
 */
import { RE2 } from "../support/regex.js";

export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PatternError";
  }
}

export interface MatcherOptions {
  pattern: string;
  /** The pattern is a plain string, not a regex. */
  literal?: boolean;
  /** true / false force case (in)sensitivity; undefined = smart case. */
  caseSensitive?: boolean;
  wordBoundaries?: boolean;
}

export interface Span {
  /** UTF-16 offsets within the line, end exclusive. */
  start: number;
  end: number;
}

export interface Matcher {
  readonly ignoreCase: boolean;
  /** Fast whole-text check (multiline): false means no line can match. Accepts text or UTF-8 bytes. */
  mayMatch(text: string | Buffer): boolean;
  /** The matches in one line (without its line break), leftmost-first, non-overlapping. */
  matches(line: string): Span[];
}

const WORD_CHARS = "\\p{L}\\p{M}\\p{Nd}\\p{Nl}\\p{Pc}\\x{200C}\\x{200D}";
const DIGIT_CHARS = "\\p{Nd}";
const SPACE_CHARS =
  "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
const PERL_CLASSES: Record<string, string> = { w: WORD_CHARS, d: DIGIT_CHARS, s: SPACE_CHARS };
const RE2_META = /[\\^$.|?*+()[\]{}]/g;

export function escapeRegex(text: string): string {
  return text.replace(RE2_META, "\\$&");
}

/**
 * Classes that hold every character of the Unicode `\w \d \s` and are cheap for RE2 (a few
 * byte ranges instead of thousands): the ASCII members plus every non-ASCII character. A pattern
 * rewritten with them matches wherever the real one does (and sometimes more), which is all a
 * probe needs; the negated ones are RE2's ASCII `\W \D \S`, which already hold all non-ASCII.
 */
const SUPERSET_CLASSES: Record<string, string> = {
  w: "0-9A-Za-z_\\x{80}-\\x{10FFFF}",
  d: "0-9\\x{80}-\\x{10FFFF}",
  s: "\\t\\n\\x{0B}\\f\\r \\x{80}-\\x{10FFFF}",
};

/** Rewrites `\w \d \s \W \D \S` to their Unicode classes, leaving everything else as written. */
export function unicodePerlClasses(pattern: string): string {
  return rewritePerlClasses(pattern, PERL_CLASSES, true)!;
}

/**
 * `pattern` with `\w \d \s` widened to SUPERSET_CLASSES: for probes that may say yes wrongly,
 * never no. Undefined when a Perl class sits in a negated class (widening it there would narrow).
 */
export function supersetPerlClasses(pattern: string): string | undefined {
  return rewritePerlClasses(pattern, SUPERSET_CLASSES, false);
}

function rewritePerlClasses(
  pattern: string,
  classes: Record<string, string>,
  unicode: boolean,
): string | undefined {
  let out = "";
  let inClass = false;
  let classNegated = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) return out + c;
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const stop = end === -1 ? pattern.length : end + 2;
        out += pattern.slice(i, stop);
        i = stop - 1;
        continue;
      }
      const lower = next.toLowerCase();
      const cls = classes[lower];
      if (cls !== undefined) {
        const negated = next !== lower;
        if (!unicode && inClass && classNegated) return undefined;
        if (negated && !unicode) out += `\\${next}`;
        else if (!inClass) out += negated ? `[^${cls}]` : `[${cls}]`;
        // Inside a class a negated one cannot be inlined; keep RE2's (ASCII) meaning there.
        else out += negated ? `\\${next}` : cls;
      } else {
        out += c + next;
      }
      i++;
      continue;
    }
    if (inClass) {
      if (c === "[" && pattern[i + 1] === ":") {
        const end = pattern.indexOf(":]", i + 2);
        if (end !== -1) {
          out += pattern.slice(i, end + 2);
          i = end + 1;
          continue;
        }
      }
      if (c === "]") inClass = false;
      out += c;
      continue;
    }
    if (c === "[") {
      inClass = true;
      classNegated = false;
      out += c;
      // A leading "]" (after an optional "^") is a literal member.
      if (pattern[i + 1] === "^") {
        out += "^";
        classNegated = true;
        i++;
      }
      if (pattern[i + 1] === "]") {
        out += "]";
        i++;
      }
      continue;
    }
    out += c;
  }
  return out;
}

const UPPER = /\p{Uppercase}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/**
 * ripgrep's smart case test: the pattern has at least one literal character and no uppercase
 * literal one. Escapes (`\W`, `\p{Lu}`), group names and flags are not literals.
 */
export function smartCaseInsensitive(pattern: string, literal: boolean): boolean {
  if (literal) return pattern.length > 0 && !UPPER.test(pattern);
  let anyLiteral = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      const next = pattern[i + 1] ?? "";
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const body = pattern.slice(i + 2, end === -1 ? undefined : end);
        if (UPPER.test(body)) return false;
        if (body.length > 0) anyLiteral = true;
        i = end === -1 ? pattern.length : end + 1;
        continue;
      }
      if ((next === "p" || next === "P" || next === "x") && pattern[i + 2] === "{") {
        const end = pattern.indexOf("}", i + 3);
        i = end === -1 ? pattern.length : end;
        continue;
      }
      if (next === "p" || next === "P") {
        i += 2;
        continue;
      }
      if (!LETTER_OR_DIGIT.test(next)) anyLiteral = true; // an escaped punctuation literal
      i++;
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?") {
      // (?flags) (?flags: (?P<name> (?<name>
      let j = i + 2;
      if (pattern[j] === "P") j++;
      if (pattern[j] === "<") {
        const end = pattern.indexOf(">", j);
        i = end === -1 ? pattern.length : end;
        continue;
      }
      while (j < pattern.length && /[a-zA-Z-]/.test(pattern[j]!)) j++;
      i = j - 1;
      continue;
    }
    if (c === "[" && pattern[i + 1] === ":") {
      const end = pattern.indexOf(":]", i + 2);
      if (end !== -1) {
        i = end + 1;
        continue;
      }
    }
    if ("[]^$.|?*+(){}-".includes(c)) continue;
    anyLiteral = true;
    if (UPPER.test(c)) return false;
  }
  return anyLiteral;
}

function describeRe2Error(pattern: string, message: string): string {
  const lookaround = /\(\?<?[=!]/.test(pattern) || /invalid perl operator: \(\?<?[=!]/.test(message);
  const backref = /\\[1-9]|\\k</.test(pattern) || /invalid escape sequence: \\[1-9k]/.test(message);
  if (lookaround || backref) {
    const what = lookaround
      ? "lookaround ((?=...), (?!...), (?<=...), (?<!...))"
      : "backreferences (\\1, \\k<name>)";
    return (
      `pattern uses ${what}, which the linear-time regex engine (RE2, like ripgrep's default) does not support: ` +
      `pass literal: true to search for the text as written, or use a simpler pattern without it`
    );
  }
  return `invalid regex ${JSON.stringify(pattern)}: ${message} (pass literal: true to search for the text as written)`;
}

/** Builds a matcher; throws PatternError on a pattern RE2 rejects. */
export function compileMatcher(options: MatcherOptions): Matcher {
  const { pattern } = options;
  const literal = options.literal ?? false;
  const ignoreCase =
    options.caseSensitive === undefined ? smartCaseInsensitive(pattern, literal) : !options.caseSensitive;
  let source = literal ? escapeRegex(pattern) : unicodePerlClasses(pattern);
  const word = options.wordBoundaries ?? false;
  if (word) source = `(?:^|[^${WORD_CHARS}])(${source})(?:[^${WORD_CHARS}]|$)`;
  const flags = ignoreCase ? "mi" : "m";
  let scan: RE2;
  let probe: RE2;
  try {
    scan = new RE2(source, `g${flags}${word ? "d" : ""}`);
    probe = new RE2(source, flags);
  } catch (err) {
    throw new PatternError(describeRe2Error(pattern, (err as Error).message));
  }

  return {
    ignoreCase,
    mayMatch: (text) => probe.test(text as string),
    matches(line: string): Span[] {
      const spans: Span[] = [];
      scan.lastIndex = 0;
      while (scan.lastIndex <= line.length) {
        const m = scan.exec(line);
        if (!m) break;
        let start: number;
        let end: number;
        if (word) {
          const group = (m as RegExpExecArray & { indices?: [number, number][] }).indices?.[1];
          if (!group) break;
          [start, end] = group;
        } else {
          start = m.index;
          end = start + m[0].length;
        }
        spans.push({ start, end });
        let next = end;
        if (end === start) {
          if (end >= line.length) break;
          const code = line.charCodeAt(end);
          next = end + (code >= 0xd800 && code <= 0xdbff ? 2 : 1);
        }
        scan.lastIndex = next;
      }
      return spans;
    },
  };
}
