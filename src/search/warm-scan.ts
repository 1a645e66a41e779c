/**
 * The warm search fast path, for patterns with required literals (see prefilter.ts):
 *
 * 1. Trigram summaries: each cached file gets a small Bloom filter of its byte trigrams (1 bit
 *    per 4 bytes of file, rounded up to a power of two, one hash). A file whose filter lacks any
 *    trigram of any required literal cannot match and is skipped without touching its bytes.
 *    This is the trigram index of code-search engines, kept per file so it lives and dies with
 *    the cache entry (an edit invalidates both). Summaries are built in the background, in
 *    short slices, after a search has filled the cache.
 * 2. Occurrence scanning: in a candidate file, `Buffer.indexOf` finds each occurrence of the
 *    rarest literal; only the lines holding one are decoded and given to the matcher. A file is
 *    never decoded or split whole, and the regex engine only sees lines that can match.
 *
 * Results are exactly the matcher's (it still decides every line); this only skips work.
 */
import { isAscii, isUtf8 } from "node:buffer";
import type { FileScan, LineHit, ScanOptions } from "./scan-types.js";
import type { Matcher, Span } from "./matcher.js";
import type { PrefilteredMatcher } from "./prefilter.js";
import { FOLD, type LiteralPlan } from "./literal-plan.js";

/** Lines longer than this (bytes) are never decoded whole by an exact literal search. */
const LONG_LINE_BYTES = 4096;

/** Files up to this size get one summary; larger ones one per block of this size. */
const BLOCK_BYTES = 16 * 1024;
/** Smallest summary of a small file, in bits. */
const MIN_BITS = 1 << 9;

function trigramHash(t: number, shift: number): number {
  return Math.imul(t, 0x9e3779b1) >>> shift;
}

/**
 * A file's trigram summary: per block of BLOCK_BYTES (one block for a small file), the bits
 * hash(t) of every trigram t whose last byte is in the block, and the newlines before each
 * block (so a hit deep in a large file gets its line number without counting from the start).
 */
export interface Summary {
  readonly blocks: number;
  /** Words of `bits` per block. */
  readonly words: number;
  readonly shift: number;
  readonly bits: Uint32Array;
  /** Newlines before the start of each block. */
  readonly linesBefore: Uint32Array;
}

export function summarize(data: Buffer): Summary {
  const n = data.length;
  const blocks = Math.max(1, Math.ceil(n / BLOCK_BYTES));
  // Source files hold about one distinct trigram per 20 bytes (measured on the bench corpus), so
  // a bit per 4 bytes leaves ~80% of bits clear: a literal of 6 trigrams passes a block without
  // it about once in 10^4 (0.2^6), at 1/32 of the file's size in memory.
  let nbits = MIN_BITS;
  while (nbits < Math.min(n, BLOCK_BYTES) / 4) nbits <<= 1;
  const words = nbits >>> 5;
  const shift = 32 - Math.log2(nbits);
  const bits = new Uint32Array(words * blocks);
  const linesBefore = new Uint32Array(blocks);
  let lines = 0;
  let t = 0;
  for (let b = 0; b < blocks; b++) {
    linesBefore[b] = lines;
    const base = b * words;
    const end = Math.min(n, (b + 1) * BLOCK_BYTES);
    for (let i = b * BLOCK_BYTES; i < end; i++) {
      const c = data[i]!;
      if (c === 0x0a) lines++;
      // ASCII-case-folded: one summary serves case-sensitive and -insensitive queries (literal-plan.ts).
      t = ((t << 8) | FOLD[c]!) & 0xffffff;
      if (i >= 2) {
        const h = Math.imul(t, 0x9e3779b1) >>> shift;
        bits[base + (h >>> 5)]! |= 1 << (h & 31);
      }
    }
  }
  return { blocks, words, shift, bits, linesBefore };
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

/**
 * Byte ranges of the file where an occurrence of a literal with these trigrams may lie: the
 * blocks that hold all of them, or whose pair with a neighbour does (an occurrence spans at most
 * two blocks when it is shorter than a block), widened by the literal's length to the left.
 */
export function candidateRanges(
  s: Summary,
  grams: readonly number[],
  literalBytes: number,
  size: number,
): [number, number][] {
  if (literalBytes > BLOCK_BYTES) return [[0, size]];
  const hashes = grams.map((t) => trigramHash(t, s.shift));
  const own = new Uint8Array(s.blocks);
  for (let b = 0; b < s.blocks; b++) own[b] = hashes.every((h) => blockHas(s, b, h)) ? 1 : 0;
  const take = new Uint8Array(s.blocks);
  for (let b = 0; b < s.blocks; b++) {
    if (own[b]) take[b] = 1;
    else if (
      b + 1 < s.blocks &&
      !own[b + 1] &&
      hashes.every((h) => blockHas(s, b, h) || blockHas(s, b + 1, h))
    ) {
      take[b] = 1;
      take[b + 1] = 1;
    }
  }
  const ranges: [number, number][] = [];
  for (let b = 0; b < s.blocks; b++) {
    if (!take[b]) continue;
    let e = b;
    while (e + 1 < s.blocks && take[e + 1]) e++;
    ranges.push([Math.max(0, b * BLOCK_BYTES - literalBytes), Math.min(size, (e + 1) * BLOCK_BYTES)]);
    b = e;
  }
  // Widening can make neighbours overlap: merge them so no occurrence is seen twice.
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push(r);
  }
  return merged;
}

/**
 * The candidate ranges of every alternative of `plan`, merged: where an occurrence of one of its
 * needles may lie.
 */
export function planRanges(s: Summary, plan: LiteralPlan, size: number): [number, number][] {
  if (plan.alternatives.length === 1)
    return candidateRanges(s, plan.alternatives[0]!.needleGrams, plan.maxNeedleBytes, size);
  const all = plan.alternatives
    .flatMap((alt) => candidateRanges(s, alt.needleGrams, plan.maxNeedleBytes, size))
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of all) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

const NL = 0x0a;

/**
 * `scanFile`'s result for one file's bytes, decoding only the lines that hold a needle of `plan`
 * (every match contains one) plus the context lines asked for. `lines` is sparse: only those
 * lines are filled in, which is all grep_file and list_files read.
 */
export function scanByLiteral(
  content: Buffer,
  plan: LiteralPlan,
  matcher: Matcher,
  options: ScanOptions,
  summary?: Summary,
): FileScan {
  const bytes = content.length;
  // The exact fast path scans for its one needle with Buffer.indexOf.
  const needle = plan.alternatives[0]!.needle;
  // Where a needle may occur: everywhere, or the candidate blocks of the summary.
  const ranges = summary ? planRanges(summary, plan, bytes) : [[0, bytes] as [number, number]];
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  // A regex (not an exact literal) is first probed on the bytes of each range, widened to whole
  // lines, and the ranges that may match are halved (at line breaks) and probed again down to a
  // few KiB: a handful of native RE2 passes instead of one call per line that holds the literal.
  // Lines found below hold a needle already: the matcher without the plan's test decides them.
  const inner = (matcher as PrefilteredMatcher).inner ?? matcher;
  const windows = options.exact ? ranges : probeWindows(content, ranges, inner, bom);
  let range = 0;
  const find = plan.finder();
  /** End of the occurrence `next` found last. */
  let foundEnd = 0;
  const next = (from: number): number => {
    for (; range < windows.length; range++) {
      const [rs, re] = windows[range]!;
      if (from >= re) continue;
      const found = find(content, Math.max(from, rs), re);
      if (found) {
        foundEnd = found[1];
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
  // Line numbering: `lineNo` is the 0-based number of the line starting at `lineStartPos`.
  let lineNo = 0;
  let countedTo = 0;
  let at = next(bom);
  const decode = (start: number, end: number) => content.toString("utf8", start === 0 ? bom : start, end);
  while (at !== -1) {
    // Count the newlines between the last counted position and this line's start.
    const start = at === 0 ? 0 : content.lastIndexOf(NL, at - 1) + 1;
    if (summary) {
      // Jump over skipped blocks: the summary knows the newlines before each block.
      const block = Math.floor(start / BLOCK_BYTES);
      if (block * BLOCK_BYTES > countedTo) {
        countedTo = block * BLOCK_BYTES;
        lineNo = summary.linesBefore[block]!;
      }
    }
    let p = content.indexOf(NL, countedTo);
    while (p !== -1 && p < start) {
      lineNo++;
      p = content.indexOf(NL, p + 1);
    }
    countedTo = start;
    const endNl = content.indexOf(NL, foundEnd);
    const end = endNl === -1 ? bytes : endNl;
    const bytesMatcher = (matcher as PrefilteredMatcher).matchesBytes;
    const lineBytes = content.subarray(start, end);
    let ascii: boolean;
    if (
      (options.exact || bytesMatcher) &&
      end - start > LONG_LINE_BYTES &&
      (start > 0 || bom === 0) &&
      ((ascii = isAscii(lineBytes)) || isUtf8(lineBytes))
    ) {
      // A long line (minified code, source maps): the matches are found on its bytes, with
      // Buffer.indexOf (an exact literal) or one RE2 pass (a regex, instead of one string call per
      // match, each re-encoding the whole line), and the line is never decoded whole: byte
      // offsets become UTF-16 ones by counting, and only the clipped display text is decoded.
      let byteSpans: Span[] = [];
      if (options.exact) {
        for (
          let o = at - start;
          o !== -1 && o + needle.length <= lineBytes.length;
          o = lineBytes.indexOf(needle, o + needle.length)
        ) {
          byteSpans.push({ start: o, end: o + needle.length });
          if (stopAfter > 0 && matches + byteSpans.length >= stopAfter) break;
        }
      } else if (inner.mayMatch(lineBytes)) {
        byteSpans = bytesMatcher!(lineBytes);
        if (stopAfter > 0 && matches + byteSpans.length > stopAfter) byteSpans.length = stopAfter - matches;
      }
      if (byteSpans.length > 0) {
        const shownBytes =
          lineBytes.length > 0 && lineBytes[lineBytes.length - 1] === 0x0d
            ? lineBytes.length - 1
            : lineBytes.length;
        const counter = new Utf16Counter(lineBytes, ascii);
        const spans = byteSpans.map((sp) => ({ start: counter.at(sp.start), end: counter.at(sp.end) }));
        if (options.clip && context === 0) {
          // The counter only goes forward; a span may end past the shown part (a "\r", one unit).
          const counted = Math.max(shownBytes, byteSpans[byteSpans.length - 1]!.end);
          const view = new LineView(lineBytes, counter.at(counted) - (counted - shownBytes), ascii);
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
      at = next(endNl + 1);
      continue;
    }
    // A long line is first probed on its bytes (RE2 reads UTF-8 directly): most long lines that
    // hold the literal (minified code) do not match, and are then never decoded.
    if (
      end - start > LONG_LINE_BYTES &&
      (start > 0 || bom === 0) &&
      !inner.mayMatch(content.subarray(start, end))
    ) {
      if (endNl === -1) break;
      at = next(endNl + 1);
      continue;
    }
    // A file that ends with "\n" has no empty last line (as split + pop in file-search.ts).
    const line = decode(start, end);
    const spans = inner.matches(line);
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

/** UTF-16 offsets of increasing byte offsets in valid UTF-8, counted in one forward pass. */
class Utf16Counter {
  private byte = 0;
  private units = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly ascii: boolean,
  ) {}

  at(offset: number): number {
    if (this.ascii) return offset;
    const b = this.bytes;
    let u = this.units;
    let i = this.byte;
    while (i < offset) {
      // Long lines are mostly ASCII (minified code, source maps): a block of ASCII is one unit
      // per byte, checked natively; only blocks with other bytes are counted byte by byte. (One
      // byte loop over a 15 MB line cost ~20 ms, and kept deoptimizing the scan around it.)
      const end = Math.min(offset, i + COUNT_BLOCK_BYTES);
      if (end - i >= 64 && isAscii(b.subarray(i, end))) {
        u += end - i;
        i = end;
        continue;
      }
      for (; i < end; i++) {
        const c = b[i]!;
        if ((c & 0xc0) !== 0x80) u += c >= 0xf0 ? 2 : 1;
      }
    }
    this.byte = offset;
    this.units = u;
    return u;
  }
}

/** Bytes Utf16Counter checks for ASCII at once. */
const COUNT_BLOCK_BYTES = 4096;

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

/** Ranges below this size are not split further by `probeWindows`. */
const PROBE_CHUNK_BYTES = 2048;

/** See scanByLiteral: the line-aligned parts of `ranges` where `matcher` may match. */
function probeWindows(
  content: Buffer,
  ranges: readonly [number, number][],
  matcher: Matcher,
  bom: number,
): [number, number][] {
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
  const out: [number, number][] = [];
  const refine = (s: number, e: number, whole = true): void => {
    if (!matcher.mayMatch(content.subarray(s, e))) return;
    if (e - s <= PROBE_CHUNK_BYTES) {
      out.push([s, e]);
      return;
    }
    if (whole && e - s > 4 * BLOCK_BYTES) {
      // A big range that may match (a whole file on a first search, before summaries exist):
      // halving it would probe it again at every level, O(n log n) where matches are dense. Cut
      // it at line breaks into blocks and refine each: every byte is probed about twice.
      for (let cs = s; cs < e;) {
        const nl = cs + BLOCK_BYTES >= e ? -1 : content.indexOf(NL, cs + BLOCK_BYTES);
        const ce = nl === -1 || nl + 1 >= e ? e : nl + 1;
        refine(cs, ce, false);
        cs = ce;
      }
      return;
    }
    const nl = content.indexOf(NL, s + ((e - s) >>> 1));
    if (nl === -1 || nl + 1 >= e) {
      out.push([s, e]); // one long line: nothing to split at
      return;
    }
    refine(s, nl + 1);
    refine(nl + 1, e);
  };
  for (const [s, e] of widened) refine(s, e);
  return out;
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
