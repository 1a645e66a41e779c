/**
 * The facts read_file and file_info give about a file's bytes (sha256, line count), memoized on
 * the file cache's entry so a warm call computes neither again (the memo dies with its content).
 */
import { createHash } from "node:crypto";
import { looksBinary } from "../../support/text.js";

/** Lines in `text`; a last line without a newline counts. */
export function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return text.length > 0 && !text.endsWith("\n") ? n + 1 : n;
}

/** sha256 of `data`, from `memo` when a previous call computed it. */
export function memoSha256(data: Buffer, memo: Record<string, unknown> | undefined): string {
  const known = memo?.sha256;
  if (typeof known === "string") return known;
  const hex = createHash("sha256").update(data).digest("hex");
  if (memo) memo.sha256 = hex;
  return hex;
}

/** countLines of `text` (the decoded `data`), from `memo` when known. */
export function memoLines(text: string, memo: Record<string, unknown> | undefined): number {
  const known = memo?.lines;
  if (typeof known === "number") return known;
  const n = countLines(text);
  if (memo) memo.lines = n;
  return n;
}

/**
 * looksBinary of `data`, from `memo` when known. Its own key: the searches keep theirs under
 * `binary` (a NUL anywhere, as rg), and the two answers differ for a NUL after the first 8 KiB.
 */
export function memoBinary(data: Buffer, memo: Record<string, unknown> | undefined): boolean {
  const known = memo?.binaryHead;
  if (typeof known === "boolean") return known;
  const binary = looksBinary(data);
  if (memo) memo.binaryHead = binary;
  return binary;
}
