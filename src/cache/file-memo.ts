/**
 * Facts derived from a cached file's bytes (a search's binary test and trigram summary,
 * read_file's sha256 and line count), kept on the cache entry and dropped with it.
 *
 * Each fact has its own key object, made once by the module that owns the fact: two modules that
 * pick the same name still get two slots, and the value's type travels with the key. Plain string
 * keys once let read_file's "binary" (a NUL in the first 8 KiB) answer for grep_file's (a NUL
 * anywhere).
 */

/** One fact's slot in every file's memo. */
export interface MemoKey<T> {
  /** For debugging only: slots are told apart by number, never by name. */
  readonly name: string;
  /** This key's own index in every memo's slots (one per memoKey call, in this thread). */
  readonly slot: number;
  /** Never set: ties the key to its value type (and keeps MemoKey<A> apart from MemoKey<B>). */
  readonly valueType?: (value: T) => T;
}

let nextSlot = 0;

/** A new slot; call once per fact, at module scope. */
export function memoKey<T>(name: string): MemoKey<T> {
  return { name, slot: nextSlot++ };
}

/**
 * A cached file's facts, one array element per key. Not symbol-keyed properties: a search reads
 * two facts of every cached file, and keyed loads of varying symbols on objects of varying
 * shapes made a warm literal search over 17k files ~10-20% slower than plain named fields.
 */
export class FileMemo {
  private readonly slots: unknown[] = [];

  get<T>(key: MemoKey<T>): T | undefined {
    return this.slots[key.slot] as T | undefined;
  }

  set<T>(key: MemoKey<T>, value: T): void {
    const slots = this.slots;
    // Fill the holes first: a packed array keeps element loads on the fast path.
    while (slots.length < key.slot) slots.push(undefined);
    slots[key.slot] = value;
  }

  /** The fact under `key`, computed by `derive` (and kept) the first time it is asked for. */
  getOrSet<T>(key: MemoKey<T>, derive: () => T): T {
    const known = this.get(key);
    if (known !== undefined) return known;
    const value = derive();
    this.set(key, value);
    return value;
  }
}

/** `derive()`, kept in `memo` under `key`; without a memo (a read the cache does not keep), just `derive()`. */
export function remember<T>(memo: FileMemo | undefined, key: MemoKey<T>, derive: () => T): T {
  return memo ? memo.getOrSet(key, derive) : derive();
}

/** A fact built ahead of caching (by a worker thread), with the bytes it holds. */
export interface BuiltMemo<T> {
  readonly key: MemoKey<T>;
  readonly value: T;
  readonly bytes: number;
}
