/**
 * Line matchers with ripgrep's semantics, on RE2 (linear time: no pattern can stall the daemon).
 *
 * - Regex syntax is RE2's, which is ripgrep's default syntax; lookaround and backreferences are
 *   refused (neither engine has them) with a message that suggests `literal` or a simpler pattern.
 * - `\w`, `\d`, `\s` and their negations are Unicode-aware, as in ripgrep (RE2's are ASCII).
 *   `\b` / `\B` stay ASCII word boundaries (RE2 has no Unicode ones); `word_boundaries` is Unicode.
 * - Smart case (the default): case-insensitive when the pattern has a literal character and no
 *   uppercase one (ripgrep -S; see smartCaseInsensitive); `caseSensitive` true/false overrides
 *   it (rg -s / -i).
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
 * literal one. Escapes of classes and assertions (`\W`, `\b`, `\p{Lu}`), named classes
 * (`[[:upper:]]`), repetition counts (`{3}`), group names and flags are not literals; a range's
 * ends are (`[A-Z]`), and so is what an escape names (`\x41`, `\t`, `\.`).
 */
export function smartCaseInsensitive(pattern: string, literal: boolean): boolean {
  if (literal) return pattern.length > 0 && !UPPER.test(pattern);
  let anyLiteral = false;
  let anyUpper = false;
  const saw = (ch: string) => {
    anyLiteral = true;
    if (UPPER.test(ch)) anyUpper = true;
  };
  /** Inside a bracketed class: the index of its first member (a "]" there is a literal). */
  let classFirst = -1;
  for (let i = 0; i < pattern.length && !anyUpper; i++) {
    const c = pattern[i]!;
    if (c === "\\") {
      i = escapeEnd(pattern, i, saw);
      continue;
    }
    if (classFirst >= 0) {
      if (c === "[" && pattern[i + 1] === ":") {
        const end = pattern.indexOf(":]", i + 2);
        if (end !== -1) {
          i = end + 1;
          continue;
        }
      }
      if (c === "]" && i > classFirst) classFirst = -1;
      else if (c !== "-") saw(c);
      continue;
    }
    if (c === "[") {
      classFirst = pattern[i + 1] === "^" ? i + 2 : i + 1;
      i = classFirst - 1;
      continue;
    }
    if (c === "(" && pattern[i + 1] === "?") {
      i = groupPrefixEnd(pattern, i);
      continue;
    }
    if (c === "{") {
      // A counted repetition ({2}, {2,}, {2,5}): its digits are no literals.
      const counted = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i, i + 24));
      if (counted) {
        i += counted[0].length - 1;
        continue;
      }
    }
    if ("^$.|?*+()".includes(c)) continue;
    saw(c);
  }
  return anyLiteral && !anyUpper;
}

/** Escapes that name one character (RE2's, as rg's parser reads them): literals. */
const CHAR_ESCAPES: Record<string, string> = { a: "\x07", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };

/**
 * The index of the last character of the escape at `i` (a "\\"), telling `saw` each literal
 * character it stands for.
 */
function escapeEnd(pattern: string, i: number, saw: (ch: string) => void): number {
  const next = pattern[i + 1];
  if (next === undefined) return i;
  if (next === "Q") {
    const end = pattern.indexOf("\\E", i + 2);
    for (const ch of pattern.slice(i + 2, end === -1 ? undefined : end)) saw(ch);
    return end === -1 ? pattern.length : end + 1;
  }
  if (next === "x") {
    // \xHH or \x{H...}: the character it names.
    const braced = pattern[i + 2] === "{";
    const end = braced ? pattern.indexOf("}", i + 3) : i + 3;
    const hex = braced ? pattern.slice(i + 3, end === -1 ? undefined : end) : pattern.slice(i + 2, i + 4);
    const code = /^[0-9a-fA-F]{1,6}$/.test(hex) ? parseInt(hex, 16) : NaN;
    if (code <= 0x10ffff) saw(String.fromCodePoint(code));
    return end === -1 ? pattern.length : end;
  }
  if (next === "p" || next === "P") {
    if (pattern[i + 2] !== "{") return i + 2;
    const end = pattern.indexOf("}", i + 3);
    return end === -1 ? pattern.length : end;
  }
  const named = CHAR_ESCAPES[next];
  if (named !== undefined) saw(named);
  // An escaped punctuation character is itself; a letter or digit is a class or an assertion.
  else if (!LETTER_OR_DIGIT.test(next)) saw(next);
  return i + 1;
}

/** The index of the last character of a group's prefix at `i`: (?flags) (?flags: (?P<name> (?<name>. */
function groupPrefixEnd(pattern: string, i: number): number {
  let j = i + 2;
  if (pattern[j] === "P") j++;
  if (pattern[j] === "<") {
    const end = pattern.indexOf(">", j);
    return end === -1 ? pattern.length : end;
  }
  while (j < pattern.length && /[a-zA-Z-]/.test(pattern[j]!)) j++;
  return j - 1;
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
