/**
 * Reading one file for a search: through the memory pool, skipping binary files the way ripgrep
 * does (a NUL byte means binary; the whole file is checked, as rg does for files it reads in one
 * buffer), splitting into lines on "\n" (a "\r" before it stays part of the line for matching,
 * as in rg without --crlf, and is dropped from displayed text).
 */
import type { Matcher } from "./matcher.js";
import type { FileScan, LineHit, ScanOptions } from "./scan-types.js";

/** Files larger than this are not searched (reported as skipped). */
export const MAX_SEARCH_FILE_BYTES = 64 * 1024 * 1024;

/** The memo name of a cached file's trigram summary. */
export const TRIGRAM_MEMO = "trigrams";

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
