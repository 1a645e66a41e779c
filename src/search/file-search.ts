/**
 * Reading one file for a search: through the memory pool, skipping binary files the way ripgrep
 * does (a NUL byte means binary; the whole file is checked, as rg does for files it reads in one
 * buffer), splitting into lines on "\n" (a "\r" before it stays part of the line for matching,
 * as in rg without --crlf, and is dropped from displayed text). A UTF-16 file with a byte order
 * mark is searched as text, transcoded, as rg does.
 */
import { memoKey, type FileMemo } from "../cache/file-memo.js";
import { transcodeUtf16WithBom } from "../support/text.js";
import type { Matcher } from "./matcher.js";
import type { SearchQuery } from "./query.js";
import type { FileScan, LineHit, LineView, ScanOptions } from "./scan-types.js";
import { fileMayMatch, scanByLiteral, type Summary } from "./warm-scan.js";

/** Files larger than this are not searched (reported as skipped). */
export const MAX_SEARCH_FILE_BYTES = 64 * 1024 * 1024;

/** A cached file's trigram summary (warm-scan.ts). */
export const TRIGRAMS = memoKey<Summary>("search.trigrams");
/** Whether a cached file holds a NUL anywhere: binary to the searches, as to rg. */
export const BINARY_ANYWHERE = memoKey<boolean>("search.binary");

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * The bytes of a file, checked (binary, prefilter) and decoded, or why there is nothing to match.
 */
function decodeForSearch(content: Buffer, matcher: Matcher, invert = false): string | FileScan {
  const bytes = content.length;
  const binary = content.includes(0);
  if (binary) return { kind: "binary", bytes };
  // Whole-file prefilter on the bytes: most files do not match and are never decoded.
  if (!invert && !matcher.mayMatch(content)) return { kind: "no_match", bytes };
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  return content.toString("utf8", bom);
}

/** A query's scan of one file's bytes: the literal plan's fast path when there is one. */
export function scanWithQuery(
  content: Buffer,
  query: SearchQuery,
  options: ScanOptions,
  memo?: FileMemo,
): FileScan {
  const maxBytes = options.maxBytes ?? MAX_SEARCH_FILE_BYTES;
  if (content.length > maxBytes) return { kind: "too_large", bytes: content.length };
  // Read as rg reads it, without the memo: the cached facts are of the UTF-16 bytes.
  const utf8 = transcodeUtf16WithBom(content);
  if (utf8) return scanWithQuery(utf8, query, { ...options, maxBytes: Infinity });
  // `remember` spelled out: this runs for every cached file of every search, and needs no closure.
  let binary = memo?.get(BINARY_ANYWHERE);
  if (binary === undefined) {
    binary = content.includes(0);
    memo?.set(BINARY_ANYWHERE, binary);
  }
  if (binary) return { kind: "binary", bytes: content.length };
  if (options.invert) return scanContent(content, query.lineMatcher, options);
  if (query.plan) {
    // Without a summary yet (a first search), one pass of the plan's needle test (Buffer.indexOf
    // or a literal RE2) rejects most files before any probe or window scan.
    const trigrams = memo?.get(TRIGRAMS);
    if (trigrams ? !fileMayMatch(trigrams, query.plan) : !query.plan.test(content))
      return { kind: "no_match", bytes: content.length };
    return scanByLiteral(content, query.plan, query.matcher, { ...options, exact: query.exact }, trigrams);
  }
  return scanContent(content, query.matcher, options);
}

/** The plain scan of a file's bytes: binary check, whole-file probe, then every line (the cold path). */
export function scanContent(content: Buffer, matcher: Matcher, options: ScanOptions = {}): FileScan {
  const decoded = decodeForSearch(content, matcher, options.invert);
  return typeof decoded === "string" ? matchLines(decoded, content.length, matcher, options) : decoded;
}

function matchLines(text: string, bytes: number, matcher: Matcher, options: ScanOptions): FileScan {
  const lines = splitLines(text);
  const hits: LineHit[] = [];
  let matches = 0;
  const stopAfter = options.stopAfter ?? 0;
  for (let i = 0; i < lines.length; i++) {
    let spans = matcher.matches(lines[i]!);
    if (options.invert) spans = spans.length === 0 ? [{ start: 0, end: 0 }] : [];
    if (spans.length === 0) continue;
    if (stopAfter > 0 && matches + spans.length > stopAfter) spans.length = stopAfter - matches;
    hits.push({ index: i, spans });
    matches += spans.length;
    if (stopAfter > 0 && matches >= stopAfter) break;
  }
  return matches > 0 ? { kind: "match", bytes, lines, hits, matches } : { kind: "no_match", bytes };
}

/** A line for display: without the "\r" of a CRLF ending. */
export function displayLine(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/** Displayed line text is cut to about this many characters (columns still refer to the full line). */
export const MAX_LINE_CHARS = 500;

/**
 * A line for display, cut to about MAX_LINE_CHARS around `around` (a match's start), with "…"
 * where it was cut. Here rather than in grep_file: the cold search's workers clip the same way.
 */
export function clipLine(text: LineView, around = 0): string {
  if (text.length <= MAX_LINE_CHARS) return text.slice(0);
  const start = Math.max(0, Math.min(around - 100, text.length - MAX_LINE_CHARS));
  return `${start > 0 ? "…" : ""}${text.slice(start, start + MAX_LINE_CHARS)}${start + MAX_LINE_CHARS < text.length ? "…" : ""}`;
}

/**
 * `scan` as if it had been scanned with `stopAfter` (> 0): its first `stopAfter` matches. A scan
 * stops at its own `stopAfter` the same way, so a file scanned ahead with a larger limit (the
 * cold search's workers do not know how many matches the files before it hold) gives the same
 * result once limited here.
 */
export function limitScan(scan: FileScan, stopAfter: number): FileScan {
  if (scan.kind !== "match" || stopAfter <= 0 || scan.matches <= stopAfter) return scan;
  const hits: LineHit[] = [];
  let matches = 0;
  for (const hit of scan.hits) {
    const room = stopAfter - matches;
    if (hit.spans.length < room) {
      hits.push(hit);
      matches += hit.spans.length;
      continue;
    }
    const cut: LineHit = { index: hit.index, spans: hit.spans.slice(0, room) };
    if (hit.texts) cut.texts = hit.texts.slice(0, room);
    hits.push(cut);
    matches += room;
    break;
  }
  return { ...scan, hits, matches };
}
