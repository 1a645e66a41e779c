/**
 * The warm search fast path, for patterns with required literals (see prefilter.ts):
 *
 * 1. Trigram summaries: each cached file gets a small Bloom filter of its byte trigrams (1 bit
 *    per byte of file, rounded up to a power of two, one hash). A file whose filter lacks any
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
import type { FileScan, LineHit } from "../search/file-search.js";
import type { Matcher } from "../search/matcher.js";

/** Smallest and largest summary, in bits. */
const MIN_BITS = 1 << 9;
const MAX_BITS = 1 << 24;

function trigramHash(t: number, shift: number): number {
  return Math.imul(t, 0x9e3779b1) >>> shift;
}

/** A file's trigram summary: bits[hash(trigram)] set for every trigram of `data`. */
export interface Summary {
  readonly bits: Uint32Array;
  readonly shift: number;
}

export function summarize(data: Buffer): Summary {
  let nbits = MIN_BITS;
  while (nbits < data.length && nbits < MAX_BITS) nbits <<= 1;
  const shift = 32 - Math.log2(nbits);
  const bits = new Uint32Array(nbits >>> 5);
  const n = data.length;
  if (n >= 3) {
    let t = (data[0]! << 8) | data[1]!;
    for (let i = 2; i < n; i++) {
      t = ((t << 8) | data[i]!) & 0xffffff;
      const h = Math.imul(t, 0x9e3779b1) >>> shift;
      bits[h >>> 5]! |= 1 << (h & 31);
    }
  }
  return { bits, shift };
}

/** The trigrams of a literal's UTF-8 bytes, as 24-bit numbers. */
export function trigramsOf(literal: Buffer): number[] {
  const out: number[] = [];
  for (let i = 2; i < literal.length; i++) out.push((literal[i - 2]! << 16) | (literal[i - 1]! << 8) | literal[i]!);
  return out;
}

/** False when the summary proves `data` holds some trigram of `grams` nowhere. */
export function mayContain(summary: Summary, grams: readonly number[]): boolean {
  const { bits, shift } = summary;
  for (const t of grams) {
    const h = trigramHash(t, shift);
    if ((bits[h >>> 5]! & (1 << (h & 31))) === 0) return false;
  }
  return true;
}

export interface LiteralPlan {
  /** Every literal a match must contain (UTF-8). */
  readonly literals: readonly Buffer[];
  /** Their trigrams, all of which a candidate file must have. */
  readonly grams: readonly number[];
}

export function planFor(literals: readonly string[]): LiteralPlan | undefined {
  const bufs = literals.filter((l) => l.length > 0 && !l.includes("\n")).map((l) => Buffer.from(l, "utf8"));
  if (bufs.length === 0) return undefined;
  return { literals: bufs, grams: [...new Set(bufs.flatMap(trigramsOf))] };
}

/**
 * Which literal to scan for: the one found in the fewest bytes of files, judged on the
 * summaries of a sample of candidate files (cheap), else the longest.
 */
export function pickScanLiteral(plan: LiteralPlan, sample: readonly { data: Buffer; summary: Summary | undefined }[]): Buffer {
  if (plan.literals.length === 1 || sample.length === 0) {
    return [...plan.literals].sort((a, b) => b.length - a.length)[0]!;
  }
  let best = plan.literals[0]!;
  let bestBytes = Infinity;
  for (const lit of plan.literals) {
    let bytes = 0;
    for (const { data } of sample) {
      let at = data.indexOf(lit);
      let hits = 0;
      while (at !== -1 && hits < 64) {
        hits++;
        at = data.indexOf(lit, at + lit.length);
      }
      bytes += hits;
    }
    if (bytes < bestBytes || (bytes === bestBytes && lit.length > best.length)) {
      best = lit;
      bestBytes = bytes;
    }
  }
  return best;
}

const NL = 0x0a;

/**
 * `scanFile`'s result for one file's bytes, decoding only the lines that hold `needle` (a literal
 * every match contains) plus the context lines asked for. `lines` is sparse: only those lines
 * are filled in, which is all grep_file and list_files read.
 */
export function scanByLiteral(
  content: Buffer,
  needle: Buffer,
  matcher: Matcher,
  options: { stopAfter?: number; contextLines?: number },
): FileScan {
  const bytes = content.length;
  const stopAfter = options.stopAfter ?? 0;
  const context = options.contextLines ?? 0;
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  const lines: string[] = [];
  const hits: LineHit[] = [];
  let matches = 0;
  // Line numbering: `lineNo` is the 0-based number of the line starting at `lineStartPos`.
  let lineNo = 0;
  let countedTo = 0;
  let at = content.indexOf(needle, bom);
  const decode = (start: number, end: number) => content.toString("utf8", start === 0 ? bom : start, end);
  while (at !== -1) {
    // Count the newlines between the last counted position and this line's start.
    const start = at === 0 ? 0 : content.lastIndexOf(NL, at - 1) + 1;
    let p = content.indexOf(NL, countedTo);
    while (p !== -1 && p < start) {
      lineNo++;
      p = content.indexOf(NL, p + 1);
    }
    countedTo = start;
    const endNl = content.indexOf(NL, at + needle.length);
    const end = endNl === -1 ? bytes : endNl;
    // A file that ends with "\n" has no empty last line (as split + pop in file-search.ts).
    const line = decode(start, end);
    const spans = matcher.matches(line);
    if (spans.length > 0) {
      lines[lineNo] = line;
      if (stopAfter > 0 && matches + spans.length > stopAfter) spans.length = stopAfter - matches;
      hits.push({ index: lineNo, spans });
      matches += spans.length;
      if (context > 0) fillContext(content, lines, lineNo, start, end, context, decode);
      if (stopAfter > 0 && matches >= stopAfter) break;
    }
    if (endNl === -1) break;
    at = content.indexOf(needle, endNl + 1);
  }
  return matches > 0 ? { kind: "match", bytes, lines, hits, matches } : { kind: "no_match", bytes };
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
