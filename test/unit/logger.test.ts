/**
 * The root logger's destination (src/daemon/logger.ts): lines are written in blocks, a warning or
 * worse at once, the rest within a moment; rotation never splits or loses a buffered line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import path from "node:path";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRootLogger, flushLogsSync } from "../../src/daemon/logger.js";

const lines = (file: string): { msg: string }[] =>
  existsSync(file)
    ? readFileSync(file, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg: string })
    : [];

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

test("log lines are buffered; a warning is written at once, the rest shortly after; rotation keeps every line", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "toold-logger-"));
  try {
    const file = path.join(dir, "daemon.log");
    const log = createRootLogger({ level: "info", file, rotation: { maxBytes: 64 * 1024, maxFiles: 2 } });
    log.info("first call");
    assert.deepEqual(lines(file), [], "an info line waits in the buffer");
    log.warn("something to see now");
    assert.deepEqual(
      lines(file).map((l) => l.msg),
      ["first call", "something to see now"],
    );
    log.info("later call");
    await until(() => lines(file).length === 3);
    // The time is pino's isoTime format (formatted once per millisecond).
    for (const l of lines(file)) {
      const time = (l as unknown as { time: string }).time;
      assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000, time);
    }
    // Enough lines to rotate twice: every one is in the live file or a rotated one, once, whole.
    for (let i = 0; i < 2000; i++) log.info({ i }, "bulk");
    flushLogsSync();
    const all = [`${file}.2`, `${file}.1`, file].flatMap(lines).filter((l) => l.msg === "bulk");
    const seen = all.map((l) => (l as unknown as { i: number }).i);
    assert.ok(seen.length > 1000, `${seen.length} bulk lines kept`);
    // The newest lines, in order, none missing: only whole old files are dropped.
    assert.deepEqual(
      seen,
      Array.from({ length: seen.length }, (_, k) => 2000 - seen.length + k),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("info lines leave in blocks of a few KiB, one write each and no fsync; a warning is synced", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "toold-logger-"));
  // sonic-boom calls these through the fs module object, so counting them here sees its calls.
  const fsModule = (await import("node:fs")).default;
  const { writeSync, fsyncSync } = fsModule;
  let writes = 0;
  let fsyncs = 0;
  try {
    const file = path.join(dir, "daemon.log");
    const log = createRootLogger({
      level: "info",
      file,
      rotation: { maxBytes: 64 * 1024 * 1024, maxFiles: 1 },
    });
    fsModule.writeSync = ((...args: Parameters<typeof writeSync>) => {
      writes++;
      return writeSync(...args);
    }) as typeof writeSync;
    fsModule.fsyncSync = ((fd: number) => {
      fsyncs++;
      fsyncSync(fd);
    }) as typeof fsyncSync;
    for (let i = 0; i < 2000; i++) log.info({ i, tool: "read_file", durationMs: 0.05 }, "call");
    assert.ok(writes > 0 && writes <= 2000 / 10, `${writes} writes for 2000 lines`);
    assert.equal(fsyncs, 0, "blocks are written, not synced");
    log.warn("something to see now");
    assert.ok(fsyncs >= 1, "a warning is synced to the disk");
    flushLogsSync();
    assert.equal(lines(file).length, 2001, "every line is in the file");
  } finally {
    fsModule.writeSync = writeSync;
    fsModule.fsyncSync = fsyncSync;
    await rm(dir, { recursive: true, force: true });
  }
});
