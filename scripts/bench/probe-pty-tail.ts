/**
 * How often a terminal loses the tail of a command's output (src/exec/pty-drain.ts): plain
 * node-pty, with and without the drain, runs interleaved. Each run prints BYTES of "x" and then
 * END; a run whose output does not end with END lost its tail.
 * Usage: npx tsx scripts/bench/probe-pty-tail.ts [RUNS=100] [BYTES=200000]
 */
import { spawn } from "@lydell/node-pty";
import { drainOnEnd } from "../../src/exec/pty-drain.js";

const runs = Number(process.argv[2] ?? 100);
const bytes = Number(process.argv[3] ?? 200_000);

async function once(drain: boolean): Promise<boolean> {
  const term = spawn("/bin/sh", ["-c", `head -c ${bytes} /dev/zero | tr '\\0' x; echo END`], {
    cols: 120,
    rows: 30,
    encoding: null,
  });
  let tail = Buffer.alloc(0);
  const take = (chunk: Buffer) => {
    tail = Buffer.concat([tail, chunk]).subarray(-16);
  };
  term.onData((data: string | Buffer) => take(typeof data === "string" ? Buffer.from(data) : data));
  if (drain) drainOnEnd(term, take);
  await new Promise<void>((resolve) => term.onExit(() => resolve()));
  return !tail.toString("latin1").includes("END");
}

const lost = { plain: 0, drained: 0 };
for (let i = 0; i < runs; i++) {
  if (await once(false)) lost.plain++;
  if (await once(true)) lost.drained++;
}
process.stdout.write(
  `${runs} runs of ${bytes} bytes: tail lost ${lost.plain} times with plain node-pty, ${lost.drained} with the drain\n`,
);
