/**
 * The token budget of exec_command, write_stdin and run_terminal_cmd, as Codex's unified exec
 * does it: a token is estimated at 4 bytes; output over `max_output_tokens` keeps its head and
 * its tail (half the budget each, cut on character boundaries) with `…N tokens truncated…`
 * between them, and the text starts with the total line count.
 */
import { incompleteUtf8Tail, leadingContinuationBytes, type OutputParts } from "./head-tail-buffer.js";

export const BYTES_PER_TOKEN = 4;

export function approxTokenCount(bytes: number): number {
  return Math.ceil(bytes / BYTES_PER_TOKEN);
}

export interface BudgetedOutput {
  /** The text to show: whole, or head + marker + tail. */
  text: string;
  truncated: boolean;
  /** Estimated tokens of everything the command printed in this span, dropped bytes included. */
  originalTokenCount: number;
}

function countLines(buf: Buffer): number {
  if (buf.length === 0) return 0;
  let n = 0;
  let at = buf.indexOf(10);
  while (at !== -1) {
    n++;
    at = buf.indexOf(10, at + 1);
  }
  return buf[buf.length - 1] === 10 ? n : n + 1;
}

/** Turns CRLF (a terminal's line ends) into LF; a lone CR (progress bars) stays. */
function normalizeNewlines(text: string, tty: boolean): string {
  return tty ? text.replace(/\r\n/g, "\n") : text;
}

/**
 * Applies the budget to one read of output. `parts.dropped` bytes were already lost between head
 * and tail (the session's buffer overflowed before anyone read it); they count as truncated.
 */
export function budgetOutput(parts: OutputParts, maxTokens: number, tty = false): BudgetedOutput {
  const whole = parts.dropped === 0 ? Buffer.concat([parts.head, parts.tail]) : undefined;
  const totalBytes = parts.head.length + parts.dropped + parts.tail.length;
  const originalTokenCount = approxTokenCount(totalBytes);
  const budget = Math.max(0, Math.floor(maxTokens)) * BYTES_PER_TOKEN;
  if (whole && whole.length <= budget) {
    return { text: normalizeNewlines(whole.toString("utf8"), tty), truncated: false, originalTokenCount };
  }
  const headSrc = whole ?? parts.head;
  const tailSrc = whole ?? parts.tail;
  const headBudget = Math.floor(budget / 2);
  let head = headSrc.subarray(0, Math.min(headBudget, headSrc.length));
  head = head.subarray(0, head.length - incompleteUtf8Tail(head));
  const tailBudget = budget - head.length;
  // With one contiguous buffer the tail must not reach back into the head.
  const tailFloor = whole ? head.length : 0;
  let tail = tailSrc.subarray(Math.max(tailFloor, tailSrc.length - tailBudget));
  tail = tail.subarray(leadingContinuationBytes(tail));
  const removedTokens = approxTokenCount(totalBytes - head.length - tail.length);
  const marker = `…${removedTokens} tokens truncated…`;
  const lines = whole ? `Total output lines: ${countLines(whole)}\n\n` : "";
  const text = `${lines}${head.toString("utf8")}${marker}${tail.toString("utf8")}`;
  return { text: normalizeNewlines(text, tty), truncated: true, originalTokenCount };
}

/** One line of "Wall time" as Codex prints it. */
export function formatWallTime(ms: number): string {
  return `Wall time: ${(ms / 1000).toFixed(4)} seconds`;
}
