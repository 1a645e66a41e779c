/**
 * The bytes a match of a pattern can contain, for the warm scan's long lines: a match never
 * crosses a byte outside this set, so in a minified line a match around a literal lies in the run
 * of such bytes around it, and only that run needs the regex. The set is an over-approximation
 * (any byte the pattern might match is in it; more is only slower), computed from the pattern's
 * text; a pattern that can match nearly anything (`.`, a negated class, `\W`, `\pL`) gives none.
 */

/** ASCII members of `\w`, `\d`, `\s` (every non-ASCII byte is in every set anyway). */
const PERL: Record<string, string> = {
  w: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
  d: "0123456789",
  s: "\t\n\v\f\r ",
};
const CONTROL: Record<string, number> = { n: 0x0a, r: 0x0d, t: 0x09, f: 0x0c, v: 0x0b, a: 0x07 };
/** Escapes that match no character (anchors, word boundaries). */
const ZERO_WIDTH = new Set(["b", "B", "A", "z"]);

/**
 * A 256-entry table: 1 for each byte a match of `pattern` (RE2 syntax, or a literal) may contain;
 * undefined when that is nearly every byte. Every byte >= 0x80 is included: the analysis is on
 * ASCII only.
 */
export function matchableBytes(
  pattern: string,
  literal: boolean,
  ignoreCase: boolean,
): Uint8Array | undefined {
  const set = new Uint8Array(256).fill(1, 0x80);
  let foldCase = ignoreCase;
  let nonAscii = false;
  const add = (code: number) => {
    if (code >= 0x80) nonAscii = true;
    else set[code] = 1;
  };
  const addText = (text: string) => {
    for (const ch of text) add(ch.codePointAt(0)!);
  };
  const done = () => {
    // Case folding: both cases of every ASCII letter; a non-ASCII character may fold to an
    // ASCII one (the Kelvin sign to "k", the long s to "s"), so then every letter.
    if (foldCase) {
      for (let c = 0x41; c <= 0x5a; c++) {
        if (set[c] || set[c + 32] || nonAscii) set[c] = set[c + 32] = 1;
      }
    }
    return set;
  };
  if (literal) {
    addText(pattern);
    return done();
  }
  const p = pattern;
  for (let i = 0; i < p.length;) {
    const c = p[i]!;
    if (c === "\\") {
      const r = escape(p, i + 1, add);
      if (r === undefined) return undefined;
      i = r;
    } else if (c === "[") {
      const r = charClass(p, i + 1, add);
      if (r === undefined) return undefined;
      i = r;
    } else if (c === ".") {
      return undefined;
    } else if (c === "(") {
      i++;
      if (p[i] === "?") {
        // (?flags) (?flags: (?P<name> (?<name> — an "i" anywhere folds case everywhere (an
        // over-approximation); names are not matched text.
        const close = p.slice(i).search(/[:)>]/);
        if (close === -1) return undefined;
        const header = p.slice(i + 1, i + close);
        if (/^[a-zA-Z-]*$/.test(header) && /i/.test(header.split("-")[0]!)) foldCase = true;
        i += close + 1;
      }
    } else if (c === "{") {
      // A repetition, or (when not one) literal text: its characters either way.
      const m = /^\{[0-9,]*\}?/.exec(p.slice(i))!;
      addText(m[0]);
      i += m[0].length;
    } else if (")|*+?^$".includes(c)) {
      i++;
    } else {
      const code = p.codePointAt(i)!;
      add(code);
      i += code > 0xffff ? 2 : 1;
    }
  }
  return done();
}

/** The escape after the "\" at `i`: adds what it matches; the index after it, or undefined (too broad). */
function escape(p: string, i: number, add: (code: number) => void): number | undefined {
  const e = p[i];
  if (e === undefined) return undefined;
  if (e === "Q") {
    const end = p.indexOf("\\E", i + 1);
    const body = p.slice(i + 1, end === -1 ? undefined : end);
    for (const ch of body) add(ch.codePointAt(0)!);
    return end === -1 ? p.length : end + 2;
  }
  const perl = PERL[e];
  if (perl !== undefined) {
    for (let k = 0; k < perl.length; k++) add(perl.charCodeAt(k));
    return i + 1;
  }
  if (ZERO_WIDTH.has(e)) return i + 1;
  const control = CONTROL[e];
  if (control !== undefined) {
    add(control);
    return i + 1;
  }
  if (e === "x") {
    const m = /^x(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2}))/.exec(p.slice(i));
    if (!m) return undefined;
    add(parseInt(m[1] ?? m[2]!, 16));
    return i + m[0].length;
  }
  // \W \S \D, \pN \p{..}, \C (any byte), octal and the rest: too broad, or not worth knowing.
  if (/[0-9A-Za-z]/.test(e)) return undefined;
  add(e.codePointAt(0)!); // escaped punctuation
  return i + e.length;
}

/** A `[...]` class whose body starts at `i`: adds its members; the index after "]", or undefined. */
function charClass(p: string, i: number, add: (code: number) => void): number | undefined {
  if (p[i] === "^") return undefined; // a negated class matches nearly everything
  let prev: number | undefined;
  let first = true;
  while (i < p.length) {
    const c = p[i]!;
    if (c === "]" && !first) return i + 1;
    first = false;
    if (c === "[" && p[i + 1] === ":") return undefined; // POSIX classes: not analysed
    let code: number;
    if (c === "\\") {
      const e = p[i + 1];
      if (e === undefined) return undefined;
      const perl = PERL[e];
      if (perl !== undefined) {
        for (let k = 0; k < perl.length; k++) add(perl.charCodeAt(k));
        prev = undefined;
        i += 2;
        continue;
      }
      const control = CONTROL[e];
      if (control !== undefined) code = control;
      else if (e === "x") {
        const m = /^x(?:\{([0-9a-fA-F]{1,6})\}|([0-9a-fA-F]{2}))/.exec(p.slice(i + 1));
        if (!m) return undefined;
        code = parseInt(m[1] ?? m[2]!, 16);
        i += m[0].length - 1;
      } else if (/[0-9A-Za-z]/.test(e)) return undefined;
      else code = e.codePointAt(0)!;
      i += 2;
    } else if (c === "-" && prev !== undefined && p[i + 1] !== undefined && p[i + 1] !== "]") {
      // A range prev-next: every code in it.
      const nextCode = p[i + 1] === "\\" ? undefined : p.codePointAt(i + 1)!;
      if (nextCode === undefined) return undefined;
      for (let k = prev; k <= Math.min(nextCode, 0x80); k++) add(k);
      if (nextCode >= 0x80) add(nextCode);
      i += nextCode > 0xffff ? 3 : 2;
      prev = undefined;
      continue;
    } else {
      code = p.codePointAt(i)!;
      i += code > 0xffff ? 2 : 1;
    }
    add(code);
    prev = code;
  }
  return undefined;
}
