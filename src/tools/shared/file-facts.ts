/**
 * The facts read_file and file_info give about a file's bytes (sha256, line count, binary sniff),
 * memoized on the file cache's entry so a warm call computes none again (the memo dies with its
 * content).
 */
import { createHash } from "node:crypto";
import { memoKey, remember, type FileMemo } from "../../cache/file-memo.js";
import { looksBinary } from "../../support/text.js";

const SHA256 = memoKey<string>("file.sha256");
const LINES = memoKey<number>("file.lines");
/** Not the searches' binary test (a NUL anywhere): this one looks at the first 8 KiB. */
const BINARY_HEAD = memoKey<boolean>("file.binaryHead");

/** Lines in `text`; a last line without a newline counts. */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text.length > 0 && !text.endsWith("\n") ? n + 1 : n;
}

/** sha256 of `data`, from `memo` when a previous call computed it. */
export function memoSha256(data: Buffer, memo: FileMemo | undefined): string {
  return remember(memo, SHA256, () => createHash("sha256").update(data).digest("hex"));
}

/** countLines of `text` (the decoded `data`), from `memo` when known. */
export function memoLines(text: string, memo: FileMemo | undefined): number {
  return remember(memo, LINES, () => countLines(text));
}

/** looksBinary of `data`, from `memo` when known. */
export function memoBinary(data: Buffer, memo: FileMemo | undefined): boolean {
  return remember(memo, BINARY_HEAD, () => looksBinary(data));
}
