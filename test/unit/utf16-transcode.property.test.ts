/** UTF-16 files with a byte order mark are searched as rg searches them: transcoded to UTF-8. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { transcodeUtf16WithBom } from "../../src/support/text.js";

const BOM = "\ufeff";
const utf16be = (s: string) => Buffer.from(s, "utf16le").swap16();

describe("transcodeUtf16WithBom", () => {
  test("gives the UTF-8 of any text behind either mark", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        const utf8 = Buffer.from(BOM + text, "utf8");
        assert.deepEqual(transcodeUtf16WithBom(Buffer.from(BOM + text, "utf16le")), utf8);
        assert.deepEqual(transcodeUtf16WithBom(utf16be(BOM + text)), utf8);
      }),
    );
  });

  test("leaves every file without a UTF-16 mark alone (UTF-8, its mark, binary, empty)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const data = Buffer.from(bytes);
        const marked =
          data.length >= 2 &&
          ((data[0] === 0xff && data[1] === 0xfe) || (data[0] === 0xfe && data[1] === 0xff));
        assert.equal(transcodeUtf16WithBom(data) === undefined, !marked);
      }),
    );
    assert.equal(transcodeUtf16WithBom(Buffer.from(BOM + "text", "utf8")), undefined);
  });

  test("an odd last byte and an unpaired surrogate become U+FFFD", () => {
    const odd = Buffer.concat([Buffer.from(BOM + "ab", "utf16le"), Buffer.from([0x41])]);
    assert.equal(transcodeUtf16WithBom(odd)?.toString("utf8"), `${BOM}ab\ufffd`);
    const lone = Buffer.from(BOM + "x\ud800y", "utf16le");
    assert.equal(transcodeUtf16WithBom(lone)?.toString("utf8"), `${BOM}x\ufffdy`);
  });
});
