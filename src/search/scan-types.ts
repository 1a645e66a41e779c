/** What a scan of one file reports; shared by the cold reader and the warm scanner. */
import type { Span } from "./matcher.js";

export interface LineHit {
  /** 0-based line index. */
  index: number;
  spans: Span[];
  /**
   * Display text per span, clipped already (`ScanOptions.clip`): set by the warm path for a long
   * line it did not decode whole; `lines[index]` is then left empty.
   */
  texts?: string[];
}

/** What `ScanOptions.clip` gets: a line's length and a way to decode part of it. */
export interface LineView {
  readonly length: number;
  slice(start: number, end?: number): string;
}

export interface ScanOptions {
  /** Stop after this many matches in the file (0 or undefined: no limit). */
  stopAfter?: number;
  maxBytes?: number;
  /** Context lines the caller will read around each hit (the warm fast path decodes only those). */
  contextLines?: number;
  /** The pattern is exactly the literal of the fast path (literal, case-sensitive, no -w). */
  exact?: boolean;
  /** The lines that do NOT match are the hits (rg -v), each with one empty span at 0. */
  invert?: boolean;
  /** How the caller clips a line for display; lets the fast path skip decoding long lines. */
  clip?: (line: LineView, around: number) => string;
}

export type FileScan =
  | { kind: "match"; bytes: number; lines: string[]; hits: LineHit[]; matches: number }
  | { kind: "no_match"; bytes: number }
  | { kind: "binary"; bytes: number }
  | { kind: "too_large"; bytes: number }
  | { kind: "unreadable"; error: string };
