/** A cached file's memo: one slot per key object, whatever the keys are named. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { FileMemo, memoKey, remember, type MemoKey } from "../../src/cache/file-memo.js";

describe("FileMemo", () => {
  test("two keys with the same name are two slots", () => {
    // The bug plain string keys allowed: read_file's and grep_file's "binary" answers collided.
    const searchBinary = memoKey<boolean>("binary");
    const readBinary = memoKey<boolean>("binary");
    const memo = new FileMemo();
    memo.set(searchBinary, true);
    assert.equal(memo.get(searchBinary), true);
    assert.equal(memo.get(readBinary), undefined);
    memo.set(readBinary, false);
    assert.equal(memo.get(searchBinary), true);
    assert.equal(memo.get(readBinary), false);
  });

  test("getOrSet derives once and keeps falsy facts (false, 0, '')", () => {
    const memo = new FileMemo();
    const derivesOnce = <T>(key: MemoKey<T>, value: T) => {
      let calls = 0;
      const derive = () => (calls++, value);
      assert.equal(memo.getOrSet(key, derive), value);
      assert.equal(memo.getOrSet(key, derive), value);
      assert.equal(calls, 1, `${key.name} derived once`);
    };
    derivesOnce(memoKey<boolean>("b"), false);
    derivesOnce(memoKey<number>("n"), 0);
    derivesOnce(memoKey<string>("s"), "");
  });

  test("remember without a memo derives every time and keeps nothing", () => {
    const key = memoKey<number>("lines");
    let calls = 0;
    assert.equal(
      remember(undefined, key, () => ++calls),
      1,
    );
    assert.equal(
      remember(undefined, key, () => ++calls),
      2,
    );
    const memo = new FileMemo();
    assert.equal(
      remember(memo, key, () => ++calls),
      3,
    );
    assert.equal(
      remember(memo, key, () => ++calls),
      3,
    );
  });
});
