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
