/**
 * The warm search fast path, for patterns with required literals (see prefilter.ts):
 *
 * 1. Trigram summaries: each cached file gets a small Bloom filter of its byte trigrams per
 *    16 KiB block (1 bit per 4 bytes of file, rounded up to a power of two, one hash). A file
 *    whose filter lacks any trigram of any required literal cannot match and is skipped without
 *    touching its bytes; in a large file, only the blocks that may hold the rarest literal (and,
 *    around a short line, the others too) are looked at. This is the trigram index of
 *    code-search engines, kept per file so it lives and dies with the cache entry (an edit
 *    invalidates both). Summaries are built in the background, in short slices, after a search
 *    has filled the cache; they also hold line and UTF-16 counts every KiB, so a hit deep in a
 *    file (or in a long minified line) gets its line and column without counting from the start.
 * 2. Candidate lines: an exact literal is found with `Buffer.indexOf` in the candidate ranges;
 *    a regex by one pass of a cheap superset RE2 (prefilter.ts) over the candidate lines, which
 *    stops at each line that may match. Only those lines are decoded and given to the matcher.
 *    A file is never decoded or split whole, and the regex engine sees each candidate byte once.
 *
 * Results are exactly the matcher's (it still decides every line); this only skips work.
 */
import { isAscii, isUtf8 } from "node:buffer";
import type { FileScan, LineHit, ScanOptions } from "./scan-types.js";
import type { Span } from "./matcher.js";
import type { PrefilteredMatcher } from "./prefilter.js";
import { FOLD, type LiteralPlan, type PlanAlternative } from "./literal-plan.js";

/** Lines longer than this (bytes) are never decoded whole when their matches can be found on bytes. */
const LONG_LINE_BYTES = 4096;

/** Files up to this size get one summary; larger ones one per block of this size. */
const BLOCK_BYTES = 16 * 1024;
/** Smallest summary of a small file, in bits. */
const MIN_BITS = 1 << 9;
/** A summary counts lines (and UTF-16 units) before every step of this many bytes. */
const MARK_SHIFT = 10;
const MARK_BYTES = 1 << MARK_SHIFT;
const MARKS_PER_BLOCK = BLOCK_BYTES / MARK_BYTES;

const NL = 0x0a;

/** UTF-16 units a byte adds to valid UTF-8 text: 0 for a continuation byte, 2 for a 4-byte lead. */
const UNITS = new Uint8Array(256);
for (let c = 0; c < 256; c++) UNITS[c] = (c & 0xc0) === 0x80 ? 0 : c >= 0xf0 ? 2 : 1;

function trigramHash(t: number, shift: number): number {
  return Math.imul(t, 0x9e3779b1) >>> shift;
}

/**
 * A file's summary: per block of BLOCK_BYTES (one block for a small file), the bits hash(t) of
 * every trigram t whose last byte is in the block; and every MARK_BYTES, the newlines (and for
 * non-ASCII UTF-8 the UTF-16 units) before that point.
 */
export interface Summary {
  readonly blocks: number;
  /** Words of `bits` per block. */
  readonly words: number;
  readonly shift: number;
  readonly bits: Uint32Array;
  /** Newlines before each MARK_BYTES step. */
  readonly lineMarks: Uint32Array;
  /** Newlines in the file. */
  readonly lines: number;
  /** UTF-16 units before each step; only for a file of valid UTF-8 that is not ASCII. */
  readonly unitMarks: Uint32Array | undefined;
  /** The file (so each of its lines: "\n" never splits a character) is ASCII / valid UTF-8. */
  readonly ascii: boolean;
  readonly utf8: boolean;
}

export function summarize(data: Buffer): Summary {
  const n = data.length;
  const blocks = Math.max(1, Math.ceil(n / BLOCK_BYTES));
  // Source files hold about one distinct trigram per 20 bytes (measured on the bench corpus), so
  // a bit per 4 bytes leaves ~80% of bits clear: a literal of 6 trigrams passes a block without
  // it about once in 10^4 (0.2^6), at 1/32 of the file's size in memory.
  let nbits = MIN_BITS;
  while (nbits < Math.min(n, BLOCK_BYTES) / Number(process.env.BYTES_PER_BIT ?? 4)) nbits <<= 1;
  const words = nbits >>> 5;
  const shift = 32 - Math.log2(nbits);
  const bits = new Uint32Array(words * blocks);
  const steps = Math.max(1, Math.ceil(n / MARK_BYTES));
  const lineMarks = new Uint32Array(steps);
  let lines = 0;
  let t = 0;
  for (let m = 0; m < steps; m++) {
    lineMarks[m] = lines;
    const base = Math.floor(m / MARKS_PER_BLOCK) * words;
    const end = Math.min(n, (m + 1) * MARK_BYTES);
    for (let i = m * MARK_BYTES; i < end; i++) {
      const c = data[i]!;
      if (c === NL) lines++;
      // ASCII-case-folded: one summary serves case-sensitive and -insensitive queries (literal-plan.ts).
      t = ((t << 8) | FOLD[c]!) & 0xffffff;
      if (i >= 2) {
        const h = Math.imul(t, 0x9e3779b1) >>> shift;
        bits[base + (h >>> 5)]! |= 1 << (h & 31);
      }
    }
  }
  const ascii = isAscii(data);
  const utf8 = ascii || isUtf8(data);
  let unitMarks: Uint32Array | undefined;
  if (!ascii && utf8) {
    unitMarks = new Uint32Array(steps);
    let u = 0;
    for (let m = 0; m < steps; m++) {
      unitMarks[m] = u;
      const end = Math.min(n, (m + 1) * MARK_BYTES);
      for (let i = m * MARK_BYTES; i < end; i++) u += UNITS[data[i]!]!;
    }
  }
  return { blocks, words, shift, bits, lineMarks, lines, unitMarks, ascii, utf8 };
}

/** Bytes a summary holds (counted against the cache's bound). */
export function summaryBytes(s: Summary): number {
  return s.bits.byteLength + s.lineMarks.byteLength + (s.unitMarks?.byteLength ?? 0) + 64;
}

/** False when no alternative of the plan can occur in the file (some trigram of each is in no block). */
export function fileMayMatch(s: Summary, plan: LiteralPlan): boolean {
  return plan.alternatives.some((alt) => fileMayContain(s, alt.grams));
}

/** False when some trigram of `grams` is in no block: then the file holds a literal nowhere. */
export function fileMayContain(s: Summary, grams: readonly number[]): boolean {
  for (const t of grams) {
    const h = trigramHash(t, s.shift);
    let found = false;
    for (let b = 0; b < s.blocks && !found; b++) found = blockHas(s, b, h);
    if (!found) return false;
  }
  return true;
}

function blockHas(s: Summary, b: number, h: number): boolean {
  return (s.bits[b * s.words + (h >>> 5)]! & (1 << (h & 31))) !== 0;
}

/** Every hash is in one of the blocks [from, to] (clipped to the file). */
function blocksHaveAll(s: Summary, hashes: readonly number[], from: number, to: number): boolean {
  const lo = Math.max(0, from);
  const hi = Math.min(s.blocks - 1, to);
  for (const h of hashes) {
    let found = false;
    for (let b = lo; b <= hi && !found; b++) found = blockHas(s, b, h);
    if (!found) return false;
  }
  return true;
}

/** Whether block b holds a line break. */
function blockHasNewline(s: Summary, b: number): boolean {
  const next = (b + 1) * MARKS_PER_BLOCK;
  return (next < s.lineMarks.length ? s.lineMarks[next]! : s.lines) > s.lineMarks[b * MARKS_PER_BLOCK]!;
}

/**
 * The blocks of a large file where a match of `alt` may have the last byte of its rarest
 * literal (`take` is set for them). Per file, the literal with the fewest candidate blocks is
 * chosen: block b may hold the last byte of an occurrence when every trigram of the literal is
 * in block b-1 or b (an occurrence is shorter than a block). Around a block whose neighbours
 * both hold a line break, the line holding such an occurrence lies within blocks b-1..b+1, and
 * so does the match: there, every other literal's trigrams must be in those blocks too.
 */
function markAlternative(s: Summary, alt: PlanAlternative, take: Uint8Array): void {
  const hashes = alt.literalGrams.map((grams) => grams.map((t) => trigramHash(t, s.shift)));
  const cands = hashes.map((hs) => {
    const own = new Uint8Array(s.blocks);
    let count = 0;
    for (let b = 0; b < s.blocks; b++) {
      if (blocksHaveAll(s, hs, b - 1, b)) {
        own[b] = 1;
        count++;
      }
    }
    return { own, count };
  });
  let best = 0;
  for (let i = 1; i < cands.length; i++) if (cands[i]!.count < cands[best]!.count) best = i;
  const own = cands[best]!.own;
  const others = hashes.filter((hs, i) => i !== best && hs.length > 0);
  for (let b = 0; b < s.blocks; b++) {
    if (!own[b]) continue;
    const confined =
      (b === 0 || blockHasNewline(s, b - 1)) && (b === s.blocks - 1 || blockHasNewline(s, b + 1));
    if (confined && !others.every((hs) => blocksHaveAll(s, hs, b - 1, b + 1))) continue;
    take[b] = 1;
  }
}

/**
 * Byte ranges of the file that hold every line where a match of `plan` may be: around the
 * candidate blocks of each alternative (markAlternative), widened to the left by the longest
 * literal, merged. A matching line holds an occurrence of each of its alternative's literals
 * within one of them; an exact literal's occurrences lie entirely in one.
 */
export function planRanges(s: Summary, plan: LiteralPlan, size: number): [number, number][] {
  if (s.blocks === 1 || plan.maxLiteralBytes > BLOCK_BYTES) return [[0, size]];
  const take = new Uint8Array(s.blocks);
  for (const alt of plan.alternatives) markAlternative(s, alt, take);
  const ranges: [number, number][] = [];
  for (let b = 0; b < s.blocks; b++) {
    if (!take[b]) continue;
    let e = b;
    while (e + 1 < s.blocks && take[e + 1]) e++;
    const start = Math.max(0, b * BLOCK_BYTES - plan.maxLiteralBytes);
    const end = Math.min(size, (e + 1) * BLOCK_BYTES);
    const last = ranges[ranges.length - 1];
    // Widening can make neighbours overlap: merge them so no occurrence is seen twice.
    if (last && start <= last[1]) last[1] = end;
    else ranges.push([start, end]);
    b = e;
  }
  return ranges;
}

/** Newlines in content[from, to). */
function countNewlines(content: Buffer, from: number, to: number): number {
  let k = 0;
  for (let i = from; i < to; i++) if (content[i] === NL) k++;
  return k;
}

/** UTF-16 units of content[from, to) (see UNITS). */
function countUnits(content: Buffer, from: number, to: number): number {
  let u = 0;
  for (let i = from; i < to; i++) u += UNITS[content[i]!]!;
  return u;
}

/** Line numbers of byte offsets of one file, counting from the nearest mark or the last answer. */
class LineNumbers {
  private pos = 0;
  private line = 0;
  constructor(
    private readonly content: Buffer,
    private readonly marks: Uint32Array | undefined,
  ) {}

  /** The 0-based number of the line holding byte `p`. */
  at(p: number): number {
    if (p < this.pos) {
      this.pos = 0;
      this.line = 0;
    }
    if (this.marks) {
      const m = Math.floor(p / MARK_BYTES);
      if (m * MARK_BYTES > this.pos) {
        this.pos = m * MARK_BYTES;
        this.line = this.marks[m]!;
      }
    }
    this.line += countNewlines(this.content, this.pos, p);
    this.pos = p;
    return this.line;
  }
}

/**
 * UTF-16 offsets, within the line starting at byte `start`, of byte offsets in that line (valid
 * UTF-8): from the summary's marks when it has them, else counted forward from the line's start
 * (then asked in increasing order).
 */
class Utf16Offsets {
  private byte = 0;
  private units = 0;
  private readonly base: number;
  constructor(
    private readonly content: Buffer,
    private readonly start: number,
    private readonly ascii: boolean,
    private readonly marks: Uint32Array | undefined,
  ) {
    this.base = !ascii && marks ? this.unitsAt(start) : 0;
  }

  private unitsAt(abs: number): number {
    const m = Math.floor(abs / MARK_BYTES);
    return this.marks![m]! + countUnits(this.content, m * MARK_BYTES, abs);
  }

  at(offset: number): number {
    if (this.ascii) return offset;
    if (this.marks) {
      // Near the last answer: count on from it; else from the nearest mark.
      if (offset >= this.byte && offset - this.byte < MARK_BYTES) {
        this.units += countUnits(this.content, this.start + this.byte, this.start + offset);
      } else this.units = this.unitsAt(this.start + offset) - this.base;
    } else this.units += countUnits(this.content, this.start + this.byte, this.start + offset);
    this.byte = offset;
    return this.units;
  }
}

/**
 * `ranges` widened to whole lines and merged, for the line finder: a match lies in one line,
 * and the candidate ranges only say where one of its literals is.
 */
function lineWindows(content: Buffer, ranges: readonly [number, number][], bom: number): [number, number][] {
  const bytes = content.length;
  const widened: [number, number][] = [];
  for (const [rs, re] of ranges) {
    const last = widened[widened.length - 1];
    // Inside the previous window already (a long line spans many ranges): no search back, which
    // on a minified file made every range scan to the line's start again.
    if (last && re <= last[1]) continue;
    const nl = re >= bytes ? -1 : content.indexOf(NL, re - 1);
    const le = nl === -1 ? bytes : nl + 1;
    if (last && rs < last[1]) {
      last[1] = le;
      continue;
    }
    const ls = Math.max(bom, rs === 0 ? 0 : content.lastIndexOf(NL, rs - 1) + 1);
    if (last && ls <= last[1]) last[1] = le;
    else widened.push([ls, le]);
  }
  return widened;
}

/**
 * `scanFile`'s result for one file's bytes, decoding only the lines where a match may be (see
 * the module comment) plus the context lines asked for. `lines` is sparse: only those lines are
 * filled in, which is all grep_file and list_files read.
 */
export function scanByLiteral(
  content: Buffer,
  plan: LiteralPlan,
  matcher: PrefilteredMatcher,
  options: ScanOptions,
  summary?: Summary,
): FileScan {
  const bytes = content.length;
  const exact = options.exact ?? false;
  const needle = plan.alternatives[0]!.needle;
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  // Where a match may be: everywhere, or around the candidate blocks of the summary.
  const ranges = summary ? planRanges(summary, plan, bytes) : [[0, bytes] as [number, number]];
  const inner = matcher.inner ?? matcher;
  const find = exact ? undefined : matcher.findCandidate;
  const windows = exact ? ranges : lineWindows(content, ranges, bom);
  let range = 0;
  let windowBytes: Buffer | undefined;
  /** End of the needle occurrence `next` found last (exact). */
  let foundEnd = 0;
  /**
   * The next position at or after `from` where a match may start: a needle occurrence (exact),
   * a candidate of the line finder, or (without one) every line start in the windows. -1: none.
   */
  const next = (from: number): number => {
    for (; range < windows.length; range++, windowBytes = undefined) {
      const [rs, re] = windows[range]!;
      if (from >= re) continue;
      const s = Math.max(from, rs);
      if (exact) {
        const at = content.subarray(s, re).indexOf(needle);
        if (at !== -1) {
          foundEnd = s + at + needle.length;
          return s + at;
        }
      } else if (find) {
        windowBytes ??= content.subarray(rs, re);
        const at = find(windowBytes, s - rs);
        if (at !== -1) return rs + at;
      } else return s;
    }
    return -1;
  };
  const stopAfter = options.stopAfter ?? 0;
  const context = options.contextLines ?? 0;
  const lines: string[] = [];
  const hits: LineHit[] = [];
  let matches = 0;
  const numbers = new LineNumbers(content, summary?.lineMarks);
  const bytesMatcher = matcher.matchesBytes;
  const decode = (start: number, end: number) => content.toString("utf8", start === 0 ? bom : start, end);
  let at = next(bom);
  while (at !== -1) {
    const start = at === 0 ? 0 : content.lastIndexOf(NL, at - 1) + 1;
    const lineNo = numbers.at(start);
    const endNl = content.indexOf(NL, exact ? foundEnd : at);
    const end = endNl === -1 ? bytes : endNl;
    let following = -1;
    if ((exact || bytesMatcher) && end - start > LONG_LINE_BYTES && (start > 0 || bom === 0)) {
      const lineBytes = content.subarray(start, end);
      const ascii = summary ? summary.ascii : isAscii(lineBytes);
      if (ascii || (summary ? summary.utf8 : isUtf8(lineBytes))) {
        // A long line (minified code, source maps): the matches are found on its bytes, with
        // Buffer.indexOf in the candidate ranges (an exact literal) or one RE2 pass (a regex),
        // and the line is never decoded whole: byte offsets become UTF-16 ones by counting, and
        // only the clipped display text is decoded.
        let byteSpans: Span[] = [];
        if (exact) {
          for (let o = at; o !== -1; o = next(foundEnd)) {
            if (o >= end) {
              following = o; // the first occurrence on a later line
              break;
            }
            byteSpans.push({ start: o - start, end: o - start + needle.length });
            if (stopAfter > 0 && matches + byteSpans.length >= stopAfter) break;
          }
        } else {
          byteSpans = bytesMatcher!(lineBytes);
          if (stopAfter > 0 && matches + byteSpans.length > stopAfter) byteSpans.length = stopAfter - matches;
        }
        if (byteSpans.length > 0) {
          const shownBytes =
            lineBytes.length > 0 && lineBytes[lineBytes.length - 1] === 0x0d
              ? lineBytes.length - 1
              : lineBytes.length;
          const units = new Utf16Offsets(content, start, ascii, summary?.unitMarks);
          const spans = byteSpans.map((sp) => ({ start: units.at(sp.start), end: units.at(sp.end) }));
          if (options.clip && context === 0) {
            // The offsets may only go forward; a span may end past the shown part (a "\r", one unit).
            const counted = Math.max(shownBytes, byteSpans[byteSpans.length - 1]!.end);
            const view = new LineView(lineBytes, units.at(counted) - (counted - shownBytes), ascii);
            const clip = options.clip;
            const texts = spans.map((sp, k) => {
              view.anchor(byteSpans[k]!.start, sp.start);
              return clip(view, sp.start);
            });
            hits.push({ index: lineNo, spans, texts });
          } else {
            lines[lineNo] = decode(start, end);
            hits.push({ index: lineNo, spans });
            if (context > 0) fillContext(content, lines, lineNo, start, end, context, decode);
          }
          matches += spans.length;
          if (stopAfter > 0 && matches >= stopAfter) break;
        }
        if (endNl === -1) break;
        at = exact ? following : next(endNl + 1);
        continue;
      }
    }
    // A file that ends with "\n" has no empty last line (as split + pop in file-search.ts).
    const line = decode(start, end);
    // Exact: the literal's occurrences (indexOf), as RE2 would give them.
    const spans = (exact ? matcher : inner).matches(line);
    if (spans.length > 0) {
      lines[lineNo] = line;
      if (stopAfter > 0 && matches + spans.length > stopAfter) spans.length = stopAfter - matches;
      hits.push({ index: lineNo, spans });
      matches += spans.length;
      if (context > 0) fillContext(content, lines, lineNo, start, end, context, decode);
      if (stopAfter > 0 && matches >= stopAfter) break;
    }
    if (endNl === -1) break;
    at = next(endNl + 1);
  }
  return matches > 0 ? { kind: "match", bytes, lines, hits, matches } : { kind: "no_match", bytes };
}

/** UTF-8 byte length of the character whose first byte is `c`. */
function charBytes(c: number): number {
  return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/**
 * A line given as valid UTF-8 bytes that behaves like its string for `length` and `slice`, for
 * clipping display text around a match. `anchor` (a byte offset and its UTF-16 offset, near the
 * slice to come) keeps each slice a short walk; `slice` cuts by UTF-16 units exactly as
 * String.prototype.slice does, lone surrogates at the edges included.
 */
class LineView {
  private anchorByte = 0;
  private anchorUnits = 0;
  constructor(
    private readonly bytes: Buffer,
    readonly length: number,
    private readonly ascii: boolean,
  ) {}

  anchor(byte: number, units: number): void {
    this.anchorByte = byte;
    this.anchorUnits = units;
  }

  /** The byte offset of the character holding UTF-16 offset `target`, and that character's offset. */
  private seek(target: number): [number, number] {
    const b = this.bytes;
    let byte = this.anchorByte;
    let u = this.anchorUnits;
    while (u > target && byte > 0) {
      byte--;
      while (byte > 0 && (b[byte]! & 0xc0) === 0x80) byte--;
      u -= b[byte]! >= 0xf0 ? 2 : 1;
    }
    while (byte < b.length) {
      const c = b[byte]!;
      const w = c >= 0xf0 ? 2 : 1;
      if (u + w > target) break;
      u += w;
      byte += charBytes(c);
    }
    return [byte, u];
  }

  slice(start: number, end: number = this.length): string {
    const a = Math.max(0, Math.min(start, this.length));
    const z = Math.max(a, Math.min(end, this.length));
    if (this.ascii) return this.bytes.toString("latin1", a, z);
    const [ba, ua] = this.seek(a);
    const [bz, uz] = this.seek(z);
    const stop = uz < z ? bz + charBytes(this.bytes[bz]!) : bz; // z inside a surrogate pair
    return this.bytes.toString("utf8", ba, stop).slice(a - ua, a - ua + (z - a));
  }
}

/** Decodes up to `n` lines before and after the line [start, end) numbered `lineNo`. */
function fillContext(
  content: Buffer,
  lines: string[],
  lineNo: number,
  start: number,
  end: number,
  n: number,
  decode: (s: number, e: number) => string,
): void {
  let s = start;
  for (let k = 1; k <= n && s > 0; k++) {
    const prevEnd = s - 1; // the "\n" ending the previous line
    const prevStart = prevEnd === 0 ? 0 : content.lastIndexOf(NL, prevEnd - 1) + 1;
    lines[lineNo - k] ??= decode(prevStart, prevEnd);
    s = prevStart;
  }
  let e = end;
  for (let k = 1; k <= n && e < content.length; k++) {
    const nextStart = e + 1;
    if (nextStart >= content.length) break; // the final "\n" starts no line
    const nl = content.indexOf(NL, nextStart);
    const nextEnd = nl === -1 ? content.length : nl;
    lines[lineNo + k] ??= decode(nextStart, nextEnd);
    e = nextEnd;
  }
}
