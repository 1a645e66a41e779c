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
import { isShared, uint32s } from "../support/shared-bytes.js";
import type { FileScan, LineHit, ScanOptions } from "./scan-types.js";
import type { Span } from "./matcher.js";
import type { PrefilteredMatcher } from "./prefilter.js";
import { FOLD, type LiteralPlan, type PlanAlternative } from "./literal-plan.js";

/** Lines longer than this (bytes) are never decoded whole when their matches can be found on bytes. */
const LONG_LINE_BYTES = 4096;

/** Files up to this size get one summary; larger ones one per block of this size. */
const BLOCK_BYTES = 4 * 1024;
/** Smallest summary of a small file, in bits. */
const MIN_BITS = 1 << 9;
/** A summary counts lines (and UTF-16 units) before every step of this many bytes. */
const MARK_SHIFT = 10;
const MARK_BYTES = 1 << MARK_SHIFT;
const MARKS_PER_BLOCK = BLOCK_BYTES / MARK_BYTES;
/** A block's trigrams include those ending in this many bytes of the next block (<= MARK_BYTES). */
const OVERLAP_BYTES = 128;

const NL = 0x0a;

/** UTF-16 units a byte adds to valid UTF-8 text: 0 for a continuation byte, 2 for a 4-byte lead. */
const UNITS = new Uint8Array(256);
for (let c = 0; c < 256; c++) UNITS[c] = (c & 0xc0) === 0x80 ? 0 : c >= 0xf0 ? 2 : 1;

function trigramHash(t: number, shift: number): number {
  return Math.imul(t, 0x9e3779b1) >>> shift;
}

/**
 * A file's summary: per block of BLOCK_BYTES (one block for a small file), the bits hash(t) of
 * every trigram t whose last byte is in the block or in the first OVERLAP_BYTES of the next one
 * (so a literal occurrence up to that long is whole in the block where it starts); and every
 * MARK_BYTES, the newlines (and for
 * non-ASCII UTF-8 the UTF-16 units) before that point.
 *
 * Trigrams are taken twice where it matters (see literal-plan.ts): over the bytes with ASCII
 * case folded (what a case-sensitive literal's trigrams are checked against), and over the
 * characters with case folded as RE2 folds it, where the Kelvin sign is a "k" and the long s an
 * "s" (so a case-insensitive literal's trigrams with k or s can be checked too). The two differ
 * only for the two trigrams after one of those signs.
 */
export interface Summary {
  readonly blocks: number;
  /** Words of `bits` per block. */
  readonly words: number;
  readonly shift: number;
  readonly bits: Uint32Array;
  /** The union of every block's bits (a file-wide test), for a file of several blocks. */
  readonly fileBits: Uint32Array | undefined;
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

const KELVIN_LAST = 0xaa; // U+212A is E2 84 AA
const LONG_S_LAST = 0xbf; // U+017F is C5 BF

export function summarize(data: Buffer): Summary {
  const n = data.length;
  // A file in shared memory gets a shared summary: a worker thread scans both without a copy.
  const shared = isShared(data);
  const blocks = Math.max(1, Math.ceil(n / BLOCK_BYTES));
  // A 4 KiB block of source or bundled code holds ~700 distinct trigrams: a bit per 2 bytes
  // leaves ~70% of bits clear, so each trigram of a literal rejects ~70% of the blocks without
  // it, at 1/16 of the file's size in memory. Large blocks (16 KiB) let common trigrams ("ext",
  // "end", "cla") into nearly every block of a large bundle.
  let nbits = MIN_BITS;
  while (nbits < Math.min(n, BLOCK_BYTES) / 2) nbits <<= 1;
  const words = nbits >>> 5;
  const shift = 32 - Math.log2(nbits);
  const bits = uint32s(words * blocks, shared);
  const steps = Math.max(1, Math.ceil(n / MARK_BYTES));
  const lineMarks = uint32s(steps, shared);
  let lines = 0;
  // t: the byte stream (ASCII-folded); f: the character stream (RE2-folded), with f1, f2 its
  // values one and two bytes back (a folded sign replaces the trigram that ended before it).
  let t = 0;
  let f = 0;
  let f1 = 0;
  let f2 = 0;
  for (let m = 0; m < steps; m++) {
    lineMarks[m] = lines;
    const base = Math.floor(m / MARKS_PER_BLOCK) * words;
    const start = m * MARK_BYTES;
    const end = Math.min(n, start + MARK_BYTES);
    // The first bytes of a block count for the previous block too (see Summary).
    const overlapEnd = m > 0 && m % MARKS_PER_BLOCK === 0 ? start + OVERLAP_BYTES : -1;
    const prev = base - words;
    for (let i = start; i < end; i++) {
      const c = data[i]!;
      if (c === NL) lines++;
      const folded = FOLD[c]!;
      t = ((t << 8) | folded) & 0xffffff;
      let nf: number;
      if (c === KELVIN_LAST && data[i - 1] === 0x84 && data[i - 2] === 0xe2)
        nf = ((f2 << 8) | 0x6b) & 0xffffff;
      else if (c === LONG_S_LAST && data[i - 1] === 0xc5) nf = ((f1 << 8) | 0x73) & 0xffffff;
      else nf = ((f << 8) | folded) & 0xffffff;
      f2 = f1;
      f1 = f;
      f = nf;
      if (i < 2) continue;
      const h = Math.imul(t, 0x9e3779b1) >>> shift;
      bits[base + (h >>> 5)]! |= 1 << (h & 31);
      if (i < overlapEnd) bits[prev + (h >>> 5)]! |= 1 << (h & 31);
      if (f !== t) {
        const g = Math.imul(f, 0x9e3779b1) >>> shift;
        bits[base + (g >>> 5)]! |= 1 << (g & 31);
        if (i < overlapEnd) bits[prev + (g >>> 5)]! |= 1 << (g & 31);
      }
    }
  }
  let fileBits: Uint32Array | undefined;
  if (blocks > 1) {
    fileBits = uint32s(words, shared);
    for (let b = 0; b < blocks; b++) for (let w = 0; w < words; w++) fileBits[w]! |= bits[b * words + w]!;
  }
  const ascii = isAscii(data);
  const utf8 = ascii || isUtf8(data);
  let unitMarks: Uint32Array | undefined;
  if (!ascii && utf8) {
    unitMarks = uint32s(steps, shared);
    let u = 0;
    for (let m = 0; m < steps; m++) {
      unitMarks[m] = u;
      const end = Math.min(n, (m + 1) * MARK_BYTES);
      for (let i = m * MARK_BYTES; i < end; i++) u += UNITS[data[i]!]!;
    }
  }
  return { blocks, words, shift, bits, fileBits, lineMarks, lines, unitMarks, ascii, utf8 };
}

/** Bytes a summary holds (counted against the cache's bound). */
export function summaryBytes(s: Summary): number {
  return (
    s.bits.byteLength +
    (s.fileBits?.byteLength ?? 0) +
    s.lineMarks.byteLength +
    (s.unitMarks?.byteLength ?? 0) +
    64
  );
}

/** False when no alternative of the plan can occur in the file (some trigram of each is in no block). */
export function fileMayMatch(s: Summary, plan: LiteralPlan): boolean {
  return plan.alternatives.some((alt) => fileMayContain(s, alt.grams));
}

/** False when some trigram of `grams` is in no block: then the file holds a literal nowhere. */
export function fileMayContain(s: Summary, grams: readonly number[]): boolean {
  const all = s.fileBits ?? s.bits;
  for (const t of grams) {
    const h = trigramHash(t, s.shift);
    if ((all[h >>> 5]! & (1 << (h & 31))) === 0) return false;
  }
  return true;
}

/** Clears out[b] unless every trigram is set in one of the blocks b-before .. b+after (each 0 or 1). */
function blocksWith(
  s: Summary,
  grams: readonly number[],
  out: Uint8Array,
  before: number,
  after: number,
): void {
  const { blocks, words, bits } = s;
  const last = blocks - 1;
  for (const t of grams) {
    const h = trigramHash(t, s.shift);
    const w = h >>> 5;
    const mask = 1 << (h & 31);
    if (before === 0 && after === 0) {
      for (let b = 0, o = w; b < blocks; b++, o += words) if ((bits[o]! & mask) === 0) out[b] = 0;
      continue;
    }
    // has(b-1), has(b), has(b+1) slide along the blocks.
    let prev = 0;
    let cur = bits[w]! & mask;
    for (let b = 0; b < blocks; b++) {
      const next = b < last ? bits[w + (b + 1) * words]! & mask : 0;
      if (out[b] && !cur && !(before && prev) && !(after && next)) out[b] = 0;
      prev = cur;
      cur = next;
    }
  }
}

/** Whether block b holds a line break. */
function blockHasNewline(s: Summary, b: number): boolean {
  const next = (b + 1) * MARKS_PER_BLOCK;
  return (next < s.lineMarks.length ? s.lineMarks[next]! : s.lines) > s.lineMarks[b * MARKS_PER_BLOCK]!;
}

/**
 * Sets `take` for the blocks of a large file where a match of `alt` may have the first byte of
 * its rarest literal, and returns that literal's index (-1: the alternative matches nowhere).
 * Per file, the literal with the fewest such blocks is chosen: an occurrence of at most
 * OVERLAP_BYTES + 1 bytes has every trigram in the block where it starts (a longer one, shorter
 * than a block, in that block or the next). Where the blocks on both sides hold a line break,
 * the line holding that occurrence lies within blocks b-1..b+1, and so does the match: there,
 * every other literal's trigrams must be in those blocks too.
 */
function markAlternative(s: Summary, alt: PlanAlternative, ignoreCase: boolean, take: Uint8Array): number {
  const n = s.blocks;
  const lits = alt.literalGrams.length;
  let best = -1;
  let own = scratch(0, n);
  let fewest = Infinity;
  // The heuristic's choice first (k = -1): another literal must do strictly better.
  for (let k = -1; k < lits; k++) {
    const i = k < 0 ? alt.needleIndex : k;
    if (k >= 0 && i === alt.needleIndex) continue;
    const cand = best === -1 ? own : scratch(1, n);
    cand.fill(1, 0, n);
    // A case-insensitive character can take 3 bytes (the Kelvin sign for "k").
    const longest = alt.literals[i]!.length * (ignoreCase ? 3 : 1);
    blocksWith(s, alt.literalGrams[i]!, cand, 0, longest - 1 <= OVERLAP_BYTES ? 0 : 1);
    let count = 0;
    for (let b = 0; b < n; b++) count += cand[b]!;
    if (count === 0) return -1;
    if (count < fewest) {
      fewest = count;
      best = i;
      if (cand !== own) [scratches[0], scratches[1]] = [cand, own];
      own = cand;
    }
  }
  const others = scratch(2, n);
  others.fill(1, 0, n);
  for (let i = 0; i < lits; i++) if (i !== best) blocksWith(s, alt.literalGrams[i]!, others, 1, 1);
  for (let b = 0; b < n; b++) {
    if (!own[b] || others[b]) {
      if (own[b]) take[b] = 1;
      continue;
    }
    // Not every other literal is near: only a line reaching beyond blocks b-1..b+1 can match.
    const confined = (b === 0 || blockHasNewline(s, b - 1)) && (b === n - 1 || blockHasNewline(s, b + 1));
    if (!confined) take[b] = 1;
  }
  return best;
}

/** Reused per-block flags for markAlternative (grown as needed; a search runs on one thread). */
const scratches: Uint8Array[] = [new Uint8Array(256), new Uint8Array(256), new Uint8Array(256)];
function scratch(k: number, n: number): Uint8Array {
  if (scratches[k]!.length < n) scratches[k] = new Uint8Array(Math.max(n, scratches[k]!.length * 2));
  return scratches[k]!;
}

/**
 * About how many of a file's blocks a search with `plan` would look through: per alternative, the
 * fewest blocks holding every trigram of one of its literals (about what `planCandidates` keeps).
 * Cheap (a bit test per block and trigram): it tells a large search which files are worth
 * another thread.
 */
export function candidateBlocks(s: Summary, plan: LiteralPlan): number {
  const n = s.blocks;
  const flags = scratch(0, n);
  let count = 0;
  for (const alt of plan.alternatives) {
    let fewest = n;
    for (const grams of alt.literalGrams) {
      flags.fill(1, 0, n);
      blocksWith(s, grams, flags, 0, 0);
      let blocks = 0;
      for (let b = 0; b < n; b++) blocks += flags[b]!;
      fewest = Math.min(fewest, blocks);
    }
    count += fewest;
  }
  return count;
}

/** Where to look in one file: byte ranges, and the literal to find in them per alternative. */
export interface Candidates {
  readonly ranges: [number, number][];
  readonly needles: readonly Buffer[];
}

/**
 * Every line where a match of `plan` may be holds an occurrence of one of `needles` that lies
 * entirely in one of `ranges`: the candidate blocks of each alternative (markAlternative),
 * widened to the right by the longest literal, merged.
 */
export function planCandidates(s: Summary, plan: LiteralPlan, size: number): Candidates {
  if (s.blocks === 1 || plan.maxLiteralBytes > BLOCK_BYTES)
    return { ranges: [[0, size]], needles: plan.alternatives.map((a) => a.needle) };
  const take = new Uint8Array(s.blocks);
  const needles: Buffer[] = [];
  for (const alt of plan.alternatives) {
    const chosen = markAlternative(s, alt, plan.ignoreCase, take);
    if (chosen !== -1) needles.push(alt.literals[chosen]!);
  }
  const ranges: [number, number][] = [];
  for (let b = 0; b < s.blocks; b++) {
    if (!take[b]) continue;
    let e = b;
    while (e + 1 < s.blocks && take[e + 1]) e++;
    const start = b * BLOCK_BYTES;
    const end = Math.min(size, (e + 1) * BLOCK_BYTES + plan.maxLiteralBytes);
    const last = ranges[ranges.length - 1];
    // Widening can make neighbours overlap: merge them so no occurrence is seen twice.
    if (last && start <= last[1]) last[1] = end;
    else ranges.push([start, end]);
    b = e;
  }
  return { ranges, needles };
}

/**
 * The 4-byte words of content[from, to): the bytes before the first word boundary of its
 * memory, the words, the bytes after. A first search (no summary, no marks) counts lines and
 * UTF-16 units over whole large files: four bytes per step is ~3x faster than one.
 */
function wordSpan(
  content: Buffer,
  from: number,
  to: number,
): { head: number; words: Uint32Array; tail: number } {
  const misaligned = (content.byteOffset + from) & 3;
  const head = Math.min(to, misaligned === 0 ? from : from + 4 - misaligned);
  const count = (to - head) >>> 2;
  const words = new Uint32Array(content.buffer, content.byteOffset + head, count);
  return { head, words, tail: head + count * 4 };
}

/** Words shorter than this are not worth a view: bytes one by one. */
const WORD_MIN_BYTES = 64;

/** Newlines in content[from, to). */
function countNewlines(content: Buffer, from: number, to: number): number {
  let k = 0;
  if (to - from < WORD_MIN_BYTES) {
    for (let i = from; i < to; i++) if (content[i] === NL) k++;
    return k;
  }
  const { head, words, tail } = wordSpan(content, from, to);
  for (let i = from; i < head; i++) if (content[i] === NL) k++;
  for (let j = 0; j < words.length; j++) {
    // The high bit of each byte of y is set iff that byte of the word is "\n" (exact, no carries
    // across bytes); the multiply sums those four bits into the top byte.
    const x = words[j]! ^ 0x0a0a0a0a;
    const y = ~(((x & 0x7f7f7f7f) + 0x7f7f7f7f) | x | 0x7f7f7f7f);
    k += Math.imul(y >>> 7, 0x01010101) >>> 24;
  }
  for (let i = tail; i < to; i++) if (content[i] === NL) k++;
  return k;
}

/** UTF-16 units of content[from, to) (see UNITS). */
function countUnits(content: Buffer, from: number, to: number): number {
  let u = 0;
  if (to - from < WORD_MIN_BYTES) {
    for (let i = from; i < to; i++) u += UNITS[content[i]!]!;
    return u;
  }
  const { head, words, tail } = wordSpan(content, from, to);
  for (let i = from; i < head; i++) u += UNITS[content[i]!]!;
  for (let j = 0; j < words.length; j++) {
    const w = words[j]!;
    // Four ASCII bytes are four units; a word with other bytes is counted byte by byte.
    if ((w & 0x80808080) === 0) u += 4;
    else u += UNITS[w & 0xff]! + UNITS[(w >>> 8) & 0xff]! + UNITS[(w >>> 16) & 0xff]! + UNITS[w >>> 24]!;
  }
  for (let i = tail; i < to; i++) u += UNITS[content[i]!]!;
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
 * A stretch of the file the scan looks through: whole lines, searched with the line finder (a
 * superset regex: one RE2 pass stops at each line that may match), or, inside long lines (where
 * widening a candidate range to whole lines would read megabytes), the range itself, searched
 * for the needle.
 */
interface Window {
  readonly start: number;
  end: number;
  readonly lines: boolean;
}

/** `ranges` as windows: widened to whole lines where the line breaks are near, merged. */
function scanWindows(content: Buffer, ranges: readonly [number, number][], bom: number): Window[] {
  const bytes = content.length;
  const out: Window[] = [];
  for (const [rs, re] of ranges) {
    // The line break before rs and the one at or after re - 1, each at most LONG_LINE_BYTES away
    // (a loop: lines are short where it matters, and an indexOf call costs more than the walk).
    let ls = rs;
    while (ls > 0 && rs - ls < 64 && content[ls - 1] !== NL) ls--;
    if (ls > 0 && content[ls - 1] !== NL) {
      const back = content.subarray(Math.max(0, rs - LONG_LINE_BYTES), ls).lastIndexOf(NL);
      if (back !== -1) ls = Math.max(0, rs - LONG_LINE_BYTES) + back + 1;
      else if (rs <= LONG_LINE_BYTES) ls = 0;
    }
    let le = re >= bytes ? bytes : re - 1;
    while (le < bytes && le - re < 64 && content[le] !== NL) le++;
    if (le < bytes && content[le] !== NL) {
      const ahead = content.subarray(le, Math.min(bytes, re + LONG_LINE_BYTES)).indexOf(NL);
      le = ahead !== -1 ? le + ahead : Math.min(bytes, re + LONG_LINE_BYTES);
    }
    const last = out[out.length - 1];
    if ((ls > 0 && content[ls - 1] !== NL) || (le < bytes && content[le] !== NL)) {
      if (last && !last.lines && rs <= last.end) last.end = Math.max(last.end, re);
      else out.push({ start: rs, end: re, lines: false });
      continue;
    }
    ls = Math.max(bom, ls);
    le = Math.min(bytes, le + 1);
    if (last && last.lines && ls <= last.end) last.end = Math.max(last.end, le);
    else out.push({ start: ls, end: le, lines: true });
  }
  return out;
}

/** Whether the windows from index `w` on cover less than an eighth of [start, end). */
function sparse(windows: readonly Window[], w: number, start: number, end: number): boolean {
  let covered = 0;
  for (let k = w; k < windows.length && windows[k]!.start < end; k++) {
    covered += Math.max(0, Math.min(end, windows[k]!.end) - Math.max(start, windows[k]!.start));
  }
  return covered * 8 < end - start;
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
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  // Where a match may be: everywhere, or around the candidate blocks of the summary; and the
  // literal every such match holds (per alternative), found first.
  const { ranges, needles } = summary
    ? planCandidates(summary, plan, bytes)
    : { ranges: [[0, bytes] as [number, number]], needles: plan.alternatives.map((a) => a.needle) };
  if (needles.length === 0) return { kind: "no_match", bytes };
  const find = plan.finder(needles);
  const needle = needles[0]!;
  const inner = matcher.inner ?? matcher;
  const findCandidate = exact ? undefined : matcher.findCandidate;
  const windows: Window[] = findCandidate
    ? scanWindows(content, ranges, bom)
    : ranges.map(([start, end]) => ({ start, end, lines: false }));
  let w = 0;
  let windowBytes: Buffer | undefined;
  /** End of the needle occurrence `next` found last; a line finder's candidate counts as empty. */
  let foundEnd = 0;
  /** Whether that was a needle occurrence (else the line finder's candidate: a probe said yes). */
  let byNeedle = true;
  /** The next place at or after `from` where a match may be (a needle occurrence or a line finder's candidate), or -1. */
  const next = (from: number): number => {
    for (; w < windows.length; w++, windowBytes = undefined) {
      const { start: ws, end: we, lines } = windows[w]!;
      if (from >= we) continue;
      const s = Math.max(from, ws);
      if (lines) {
        windowBytes ??= content.subarray(ws, we);
        const at = findCandidate!(windowBytes, s - ws);
        if (at !== -1) {
          foundEnd = ws + at;
          byNeedle = false;
          return ws + at;
        }
        continue;
      }
      const found = find(content, s, we);
      if (found) {
        foundEnd = found[1];
        byNeedle = true;
        return found[0];
      }
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
    const endNl = content.indexOf(NL, foundEnd);
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
        // Runs cost a few RE2 calls per needle; one pass over the whole line costs its bytes. Runs
        // pay where the candidate ranges cover little of the line (a needle in a few places).
        const matchable = matcher.matchable && sparse(windows, w, start, end) ? matcher.matchable : undefined;
        if (exact || matchable) {
          // Only around the needles found in the candidate ranges: each occurrence (an exact
          // literal), or the run of bytes a match can hold around each (a regex: a match never
          // crosses another byte, and each holds a needle), given to RE2 with a byte of context
          // on each side (for \b, ^ and $).
          for (let o = at; o !== -1;) {
            if (o >= end) {
              following = o; // the first occurrence on a later line
              break;
            }
            if (exact) {
              byteSpans.push({ start: o - start, end: o - start + needle.length });
              if (stopAfter > 0 && matches + byteSpans.length >= stopAfter) break;
              o = next(foundEnd);
              continue;
            }
            let a = o;
            while (a > start && matchable![content[a - 1]!]) a--;
            let b = o;
            while (b < end && matchable![content[b]!]) b++;
            const from = a > start ? a - 1 : start;
            const found = bytesMatcher!(content.subarray(from, b < end ? b + 1 : end));
            for (const sp of found)
              byteSpans.push({ start: sp.start + from - start, end: sp.end + from - start });
            if (stopAfter > 0 && matches + byteSpans.length >= stopAfter) {
              byteSpans.length = Math.min(byteSpans.length, stopAfter - matches);
              break;
            }
            o = next(b);
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
        at = exact || matchable ? following : next(endNl + 1);
        continue;
      }
    }
    // A regex: most lines holding the needle do not match; the probe (RE2 on the line's bytes,
    // a superset of the pattern) sends on only those that may, and only those are decoded.
    if (!exact && byNeedle && !inner.mayMatch(content.subarray(start === 0 ? bom : start, end))) {
      if (endNl === -1) break;
      at = next(endNl + 1);
      continue;
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
