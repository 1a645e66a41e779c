/**
 * Rows j, j2 (issue #16): what the journal costs a write. Two daemons side by side on identical
 * small workspaces, one with `[journal] enabled = false`; the same client alternates runs between
 * them. j: edit_file on a 16 KiB file (before-image, two fsyncs, after hash); j2: write_file of a
 * 1 MiB file (the before-image copy dominates). Medians of per-run means.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ToolDClient } from "../../src/client/index.js";
import { median, ms, type Row } from "./common.js";

interface Side {
  child: ChildProcess;
  client: ToolDClient;
  root: string;
}

async function startSide(repo: string, base: string, name: string, journal: boolean): Promise<Side> {
  const root = path.join(base, name);
  const run = path.join(base, `${name}-run`);
  mkdirSync(root);
  mkdirSync(run, { mode: 0o700 });
  writeFileSync(path.join(root, "vtcode.toml"), `[journal]\nenabled = ${journal}\n`);
  const socket = path.join(run, "d.sock");
  const env = { ...process.env, TOOLD_SOCKET: socket, TOOLD_STATE_DIR: path.join(base, `${name}-state`) };
  const child = spawn(
    process.execPath,
    [path.join(repo, "dist/daemon/entry.js"), "--workspace", root, "--socket", socket, "--foreground"],
    { stdio: "ignore", env },
  );
  const deadline = Date.now() + 15_000;
  while (!existsSync(socket)) {
    if (Date.now() > deadline) throw new Error(`daemon ${name} did not start`);
    await new Promise((r) => setTimeout(r, 20));
  }
  const client = await ToolDClient.connect({ workspace: root, socket, env, autoStart: false });
  return { child, client, root };
}

export async function journalRows(opts: { repo: string; runs: number; quick: boolean }): Promise<Row[]> {
  const base = mkdtempSync(path.join(os.tmpdir(), "toold-bench-journal-"));
  const sides: Side[] = [];
  try {
    const on = await startSide(opts.repo, base, "on", true);
    sides.push(on);
    const off = await startSide(opts.repo, base, "off", false);
    sides.push(off);
    const line = "export const value = 1; // a line of a source file, about sixty bytes\n";
    const text = line.repeat(Math.ceil(16384 / line.length));
    const big = "x".repeat(1024 * 1024 - 1) + "\n";
    for (const s of sides) {
      writeFileSync(path.join(s.root, "edit.ts"), text);
      writeFileSync(path.join(s.root, "big.txt"), big);
    }
    const n = opts.quick ? 30 : 150;
    const edits = async (s: Side): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < n; i++) {
        const [from, to] = i % 2 === 0 ? ["value = 1", "value = 2"] : ["value = 2", "value = 1"];
        const r = await s.client.callTool("edit_file", {
          path: "edit.ts",
          old_str: from,
          new_str: to,
          replace_all: true,
        });
        if (r.isError) throw new Error(r.content[0]?.text);
      }
      return (performance.now() - t) / n;
    };
    const writes = async (s: Side): Promise<number> => {
      const t = performance.now();
      const m = Math.max(5, Math.floor(n / 5));
      for (let i = 0; i < m; i++) {
        const r = await s.client.callTool("write_file", {
          path: "big.txt",
          content: i % 2 ? big : big.toUpperCase(),
        });
        if (r.isError) throw new Error(r.content[0]?.text);
      }
      return (performance.now() - t) / m;
    };
    const rows: Row[] = [];
    for (const [id, what, fn] of [
      ["j", "edit_file of a 16 KiB file (replace_all, ~230 replacements)", edits],
      ["j2", "write_file replacing a 1 MiB file", writes],
    ] as const) {
      await fn(on); // warm both: JIT, hot cache, the journal's first open
      await fn(off);
      const withJournal: number[] = [];
      const without: number[] = [];
      for (let r = 0; r < opts.runs; r++) {
        withJournal.push(await fn(on));
        without.push(await fn(off));
      }
      const ratio = median(withJournal) / median(without);
      rows.push({
        id,
        figure: `${what}, ms per call, [journal] on vs off`,
        baseline: `journal off ${ms(median(without))}`,
        result: ms(median(withJournal)),
        ratio: `${ratio.toFixed(2)}x`,
        goal: "n/a (the price of undo)",
        met: "n/a",
      });
    }
    return rows;
  } finally {
    for (const s of sides) {
      s.client.close();
      s.child.kill("SIGTERM");
    }
    await new Promise((r) => setTimeout(r, 200));
    rmSync(base, { recursive: true, force: true });
  }
}
