/** Text helpers shared by the tools that read and rewrite text files. */

/** How much of a file the binary check looks at, as git and ripgrep's heuristics do. */
export const BINARY_SNIFF_BYTES = 8192;

/** A NUL byte in the first 8 KiB marks a file as binary. */
export function looksBinary(data: Buffer): boolean {
  return data.subarray(0, BINARY_SNIFF_BYTES).includes(0);
}

/**
 * A UTF-16 file that starts with a byte order mark, transcoded to UTF-8 (its mark becomes the
 * UTF-8 one), as ripgrep searches it by default (`--encoding auto`); undefined for any other file.
 * Its NUL bytes are part of its characters, not a sign of a binary file. Unpaired surrogates and
 * an odd last byte become U+FFFD, as in rg's decoder.
 */
export function transcodeUtf16WithBom(data: Buffer): Buffer | undefined {
  if (data.length < 2) return undefined;
  const le = data[0] === 0xff && data[1] === 0xfe;
  if (!le && !(data[0] === 0xfe && data[1] === 0xff)) return undefined;
  const even = data.subarray(0, data.length & ~1);
  // Node decodes little-endian only: swap a big-endian file's bytes in a copy first.
  const units = le ? even : Buffer.from(even).swap16();
  const text = units.toString("utf16le") + (data.length & 1 ? "\uFFFD" : "");
  return Buffer.from(text, "utf8");
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
