/**
 * Smart case decides as `rg -S` does. rg searches case-insensitively only when the pattern has a
 * literal character and no uppercase one; what counts as a literal is the subtle part (a range's
 * ends do, a repetition count or a named class does not, `\x41` is an "A"). rg's choice is seen
 * from outside: on an input with both cases, `-S` prints what `-s` or what `-i` prints.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { smartCaseInsensitive } from "../../src/search/matcher.js";

const RG = "/usr/bin/rg";
const rgAvailable = spawnSync(RG, ["--version"]).status === 0;
const skip = rgAvailable ? false : `ripgrep not found at ${RG}; install ripgrep to run the parity test`;

/** Lines in both cases around the tokens below, so most patterns tell -s from -i. */
const INPUT = [
  ...["foo1", "abc1", "a-1", "a\tb", "foo", ".a", "a.", "aa", "ax", "a]", "a}", "ay", " foo ", "éx", "bx"],
  ...["é-1", "a1b", "ab-", "xa", "1a"],
]
  .flatMap((l) => [l, l.toUpperCase()])
  .join("\n");

/** rg's smart-case choice for `pattern`: true (insensitive), false, or undefined (not seen / invalid). */
function rgSmartCase(pattern: string): boolean | undefined {
  const run = (flag: string) => {
    const r = spawnSync(RG, ["--no-config", flag, "-e", pattern], { input: INPUT, encoding: "utf8" });
    return r.status === 2 ? undefined : r.stdout;
  };
  const [smart, sensitive, insensitive] = [run("-S"), run("-s"), run("-i")];
  if (smart === undefined || sensitive === insensitive) return undefined;
  return smart === insensitive ? true : smart === sensitive ? false : undefined;
}

describe("smart case", { skip }, () => {
  it("counts as literals what rg counts", () => {
    const cases: [string, boolean][] = [
      ["[[:upper:]]{3}[[:digit:]]", false], // a repetition count is no literal
      ["[[:upper:]]{2,}", false],
      ["[[:upper:]]-[[:digit:]]", true], // "-" outside a class is
      ["[[:upper:]]\\t", true], // so is an escaped tab
      ["\\x46oo", false], // \x46 is "F"
      ["\\x{46}oo", false],
      ["\\x66oo", true],
      ["[.][[:upper:]]", true], // "." in a class is a literal
      ["[[:upper:]]]", true], // so are "]" and "}" outside one
      ["[[:upper:]]}", true],
      ["[A-Z]+", false],
      ["[a-z]+", true],
      ["\\bFoo", false],
      ["\\p{Lu}x", true],
      ["(?P<N>[[:upper:]])x", true],
    ];
    for (const [pattern, insensitive] of cases) {
      assert.equal(rgSmartCase(pattern), insensitive, `rg on ${pattern}`);
      assert.equal(smartCaseInsensitive(pattern, false), insensitive, pattern);
    }
  });

  it("agrees with rg -S on random patterns", () => {
    const token = fc.constantFrom(
      ..."a A 1 - . ] } é É".split(" "),
      ...["\\x41", "\\x61", "\\x{C9}", "\\t", "\\.", "\\b", "\\w", "\\d", "\\p{Lu}", "\\PL"],
      ...["[[:upper:]]", "[[:digit:]]", "[A-Z]", "[a-z]", "[.a]", "[^A]", "[]a]", "(x|y)", "(?:a|B)"],
      ...["{2}", "{1,}", "?", "*"],
    );
    fc.assert(
      fc.property(fc.array(token, { minLength: 1, maxLength: 5 }), (tokens) => {
        const pattern = tokens.join("");
        const rg = rgSmartCase(pattern);
        if (rg !== undefined) assert.equal(smartCaseInsensitive(pattern, false), rg, pattern);
      }),
      { numRuns: 150 },
    );
  });
});
