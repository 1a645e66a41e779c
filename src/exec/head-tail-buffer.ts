/**
 * Bounded output: keeps the first `cap / 2` and the last `cap / 2` bytes of a stream and counts
 * what falls between, so a command that floods output costs at most `cap` bytes of memory.
 * run_terminal_cmd keeps one per stream for the whole call; an exec session keeps one for the
 * output nobody has read yet and empties it on each read (`take`).
 */

/** What a read returns: the kept head, how many bytes were dropped after it, and the kept tail. */
export interface OutputParts {
  head: Buffer;
  dropped: number;
  tail: Buffer;
}

/** Length of an incomplete UTF-8 sequence at the end of `buf` (0 when it ends on a boundary). */
export function incompleteUtf8Tail(buf: Buffer): number {
  for (let back = 1; back <= Math.min(3, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation: look further back
    const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/** Bytes at the start of `buf` that continue a character cut off before it. */
export function leadingContinuationBytes(buf: Buffer): number {
  let n = 0;
  while (n < 3 && n < buf.length && (buf[n]! & 0xc0) === 0x80) n++;
  return n;
}

export class HeadTailBuffer {
  private readonly headCap: number;
  private readonly tailCap: number;
  private head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  /** Bytes pushed since the last `take` (or since creation). */
  total = 0;

  constructor(readonly cap: number) {
    this.headCap = Math.ceil(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    if (this.headLen < this.headCap) {
      const take = Math.min(this.headCap - this.headLen, chunk.length);
      this.head.push(chunk.subarray(0, take));
      this.headLen += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0 || this.tailCap === 0) return;
    this.tail.push(chunk);
    this.tailLen += chunk.length;
    while (this.tailLen - this.tail[0]!.length >= this.tailCap) this.tailLen -= this.tail.shift()!.length;
  }

  /** Bytes held now (at most `cap` plus one chunk's slack in the tail). */
  get heldBytes(): number {
    return this.headLen + this.tailLen;
  }

  get truncated(): boolean {
    return this.total > this.cap;
  }

  /** The kept bytes, with the tail cut to its cap. */
  parts(): OutputParts {
    const head = Buffer.concat(this.head, this.headLen);
    let tail = Buffer.concat(this.tail, this.tailLen);
    if (tail.length > this.tailCap) tail = tail.subarray(tail.length - this.tailCap);
    return { head, dropped: this.total - head.length - tail.length, tail };
  }

  /**
   * Empties the buffer and returns what it held. Unless `final`, an incomplete UTF-8 character at
   * the very end stays for the next read, so a character split across two reads is not broken.
   */
  take(final: boolean): OutputParts {
    const parts = this.parts();
    let carry: Buffer | undefined;
    if (!final) {
      const last = parts.tail.length > 0 ? "tail" : "head";
      const buf = parts[last];
      const cut = incompleteUtf8Tail(buf);
      if (cut > 0) {
        carry = Buffer.from(buf.subarray(buf.length - cut));
        parts[last] = buf.subarray(0, buf.length - cut);
      }
    }
    this.head = [];
    this.headLen = 0;
    this.tail = [];
    this.tailLen = 0;
    this.total = 0;
    if (carry) this.push(carry);
    return parts;
  }

  /** The whole kept output as text, with a marker where bytes were cut (run_terminal_cmd's form). */
  toString(): string {
    const { head, dropped, tail } = this.parts();
    if (dropped === 0) return Buffer.concat([head, tail]).toString("utf8");
    // Cut on UTF-8 character boundaries so neither side ends in a broken character.
    const headEnd = head.length - incompleteUtf8Tail(head);
    const tailStart = leadingContinuationBytes(tail);
    const cut = this.total - headEnd - (tail.length - tailStart);
    return `${head.subarray(0, headEnd).toString("utf8")}\n[... ${cut} bytes cut ...]\n${tail.subarray(tailStart).toString("utf8")}`;
  }
}
