/** Text helpers shared by the tools that read and rewrite text files. */

/** How much of a file the binary check looks at, as git and ripgrep's heuristics do. */
export const BINARY_SNIFF_BYTES = 8192;

/** A NUL byte in the first 8 KiB marks a file as binary. */
export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/** Splits into lines that keep their own endings (\n, \r\n), so a slice joins back byte-exact. */
export function splitLinesKeepEnds(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf("\n", start);
    if (nl === -1) break;
    lines.push(text.slice(start, nl + 1));
    start = nl + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/**
 * Lines [offset, offset + limit) of `text` (1-based, endings kept) as one byte-exact slice, and
 * the number of lines, without splitting the whole text into an array: a `limit: 5` read of a big
 * file allocates five lines, not all of them.
 */
export function lineWindow(
  text: string,
  offset: number,
  limit: number,
): { content: string; totalLines: number; endLine: number } {
  const last = offset - 1 + limit;
  let line = 1;
  let pos = 0;
  let start = offset === 1 ? 0 : -1;
  let end = -1;
  while (pos < text.length) {
    const nl = text.indexOf("\n", pos);
    const next = nl === -1 ? text.length : nl + 1;
    if (line === offset) start = pos;
    if (line === last) end = next;
    pos = next;
    line++;
  }
  const totalLines = line - 1;
  const content = start === -1 || limit <= 0 ? "" : text.slice(start, end === -1 ? text.length : end);
  return { content, totalLines, endLine: Math.max(offset - 1, Math.min(last, totalLines)) };
}
