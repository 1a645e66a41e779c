/**
 * Reading one file for a search: through the memory pool, skipping binary files the way ripgrep
 * does (a NUL byte means binary; the whole file is checked, as rg does for files it reads in one
 * buffer), splitting into lines on "\n" (a "\r" before it stays part of the line for matching,
 * as in rg without --crlf, and is dropped from displayed text).
 */
import { openConfinedForRead } from "../support/confined-fs.js";
import type { BufferPool } from "../support/memory-pool.js";
import type { FileCache } from "../cache/file-cache.js";
import { fileMayContain, scanByLiteral, type LiteralPlan, type Summary } from "./warm-scan.js";
import type { Matcher } from "./matcher.js";
import type { FileScan, LineHit, ScanOptions } from "./scan-types.js";

/** Files larger than this are not searched (reported as skipped). */
export const MAX_SEARCH_FILE_BYTES = 64 * 1024 * 1024;

/** The warm fast path: literals every match contains, and the one to scan for (warm-scan.ts). */
export interface LiteralFastPath {
  readonly plan: LiteralPlan;
  readonly needle: Buffer;
}

/** The memo name of a cached file's trigram summary. */
export const TRIGRAM_MEMO = "trigrams";

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** Reads `abs` through `pool` and finds the lines `matcher` matches. */
export async function scanFile(
  pool: BufferPool,
  abs: string,
  matcher: Matcher,
  options: ScanOptions = {},
): Promise<FileScan> {
  const maxBytes = options.maxBytes ?? MAX_SEARCH_FILE_BYTES;
  let handle;
  try {
    // Through a verified handle of its folder, never following a link swapped in since the walk
    // saw a file; non-blocking, so a FIFO does not hold a thread (src/support/confined-fs.ts).
    handle = await openConfinedForRead(abs);
  } catch (err) {
    return { kind: "unreadable", error: (err as NodeJS.ErrnoException).code ?? String(err) };
  }
  let text: string;
  let bytes: number;
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { kind: "unreadable", error: "not a regular file" };
    if (st.size > maxBytes) return { kind: "too_large", bytes: st.size };
    const buf = pool.acquire(Math.max(st.size, 1));
    try {
      let filled = 0;
      while (filled < st.size) {
        const { bytesRead } = await handle.read(buf, filled, st.size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      bytes = filled;
      const content = buf.subarray(0, filled);
      const decoded = decodeForSearch(content, matcher);
      if (typeof decoded !== "string") return decoded;
      text = decoded;
    } finally {
      pool.release(buf);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === "string") return { kind: "unreadable", error: code };
    throw err;
  } finally {
    await handle.close();
  }
  return matchLines(text, bytes, matcher, options);
}

/** Per-file facts kept with a cached file (see FileCache.readTrusted). */
interface SearchMemo {
  binary?: boolean;
  trigrams?: Summary;
}

/**
 * The bytes of a file, checked (binary, prefilter) and decoded, or why there is nothing to match.
 * `memo` keeps the binary check with a cached file so a warm search does not redo it.
 */
function decodeForSearch(content: Buffer, matcher: Matcher, memo?: SearchMemo): string | FileScan {
  const bytes = content.length;
  const binary = memo?.binary ?? content.includes(0);
  if (memo) memo.binary = binary;
  if (binary) return { kind: "binary", bytes };
  // Whole-file prefilter on the bytes: most files do not match and are never decoded.
  if (!matcher.mayMatch(content)) return { kind: "no_match", bytes };
  const bom = bytes >= 3 && content[0] === 0xef && content[1] === 0xbb && content[2] === 0xbf ? 3 : 0;
  return content.toString("utf8", bom);
}

/**
 * `scanFile` on the warm file cache, synchronously (see FileCache.readTrusted): only after the
 * workspace index has synced with its watcher, so a cached entry is known to be current.
 */
export function scanFileCached(
  files: FileCache,
  pool: BufferPool,
  abs: string,
  matcher: Matcher,
  options: ScanOptions = {},
  fast?: LiteralFastPath,
): FileScan {
  const maxBytes = options.maxBytes ?? MAX_SEARCH_FILE_BYTES;
  const scan = files.readTrusted(
    abs,
    (content, memo) => {
      if (content.length > maxBytes) return { kind: "too_large", bytes: content.length } as FileScan;
      if (fast) {
        const m = memo as SearchMemo;
        const binary = m.binary ?? content.includes(0);
        m.binary = binary;
        if (binary) return { kind: "binary", bytes: content.length } as FileScan;
        if (m.trigrams && !fileMayContain(m.trigrams, fast.plan.grams))
          return { kind: "no_match", bytes: content.length } as FileScan;
        return scanByLiteral(content, fast.needle, matcher, options, m.trigrams);
      }
      const decoded = decodeForSearch(content, matcher, memo as SearchMemo);
      return typeof decoded === "string" ? matchLines(decoded, content.length, matcher, options) : decoded;
    },
    pool,
  );
  return scan ?? { kind: "unreadable", error: "ENOENT" };
}

function matchLines(text: string, bytes: number, matcher: Matcher, options: ScanOptions): FileScan {
  const lines = splitLines(text);
  const hits: LineHit[] = [];
  let matches = 0;
  const stopAfter = options.stopAfter ?? 0;
  for (let i = 0; i < lines.length; i++) {
    const spans = matcher.matches(lines[i]!);
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
