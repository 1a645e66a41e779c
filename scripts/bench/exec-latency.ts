/**
 * Rows x and x2 of `npm run bench`: the latency of a short command (`true`) through the daemon's
 * exec_command and run_terminal_cmd, beside `sh -c true` spawned directly by the same client
 * process; and exec_command contained in a PID namespace beside the /proc sweep (what the
 * namespace costs). Medians, side by side in one run. Each daemon gets its own small workspace.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { MessageConnection } from "vscode-jsonrpc/node";
import { median, ms, type Row } from "./common.js";
import { socketAnswers } from "./socket.js";

export interface ExecBenchOptions {
  runs: number;
  /** A private (0700) folder for sockets and workspaces. */
  runDir: string;
  daemon: string;
  quick: boolean;
  /** scripts/bench.ts's LSP-framed connection to a socket. */
  connect: (socket: string) => Promise<{ conn: MessageConnection; close: () => void }>;
}

async function startDaemon(
  daemon: string,
  workspace: string,
  socket: string,
  env: NodeJS.ProcessEnv,
): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [daemon, "--workspace", workspace, "--socket", socket, "--foreground"],
    {
      stdio: ["ignore", "ignore", "ignore"],
      env: { ...process.env, TOOLD_SOCKET: socket, ...env },
    },
  );
  const deadline = Date.now() + 20_000;
  // The socket file exists from bind(), before listen(): wait until it answers.
  while (!(existsSync(socket) && (await socketAnswers(socket)))) {
    if (Date.now() > deadline || child.exitCode !== null)
      throw new Error(`daemon did not start on ${socket}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** A client with one JSON-RPC call; failures of the tool throw. */
function toolCaller(conn: MessageConnection) {
  return async (name: string, args: Record<string, unknown>): Promise<void> => {
    const r = (await conn.sendRequest("tools/call", { name, arguments: args })) as {
      isError?: boolean;
      content: { text: string }[];
    };
    if (r.isError) throw new Error(`${name} failed: ${r.content[0]?.text}`);
  };
}

function spawnShTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", "true"], { stdio: ["ignore", "pipe", "pipe"] });
    child.once("error", reject);
    child.once("close", () => resolve());
  });
}

export async function execRows(o: ExecBenchOptions): Promise<Row[]> {
  const n = o.quick ? 10 : Math.max(30, o.runs * 10);
  const daemons: ChildProcess[] = [];
  const clients: { close(): void }[] = [];
  try {
    const open = async (name: string, env: NodeJS.ProcessEnv) => {
      const ws = path.join(o.runDir, `exec-${name}`);
      mkdirSync(ws, { recursive: true });
      writeFileSync(
        path.join(ws, "vtcode.toml"),
        '[tools.policies]\nexec_command = "allow"\nrun_terminal_cmd = "allow"\n[cache]\nwatch = false\n',
      );
      const socket = path.join(o.runDir, `exec-${name}.sock`);
      daemons.push(await startDaemon(o.daemon, ws, socket, env));
      const client = await o.connect(socket);
      clients.push(client);
      return { call: toolCaller(client.conn) };
    };
    const main = await open("ns", {});
    const sweep = await open("sweep", { TOOLD_EXEC_CONTAINMENT: "sweep" });
    // Interleaved per round, so load on the machine hits every figure alike; the order turns
    // each round, so what one figure leaves running (the sweep daemon reads /proc 10 ms after
    // its command) falls on every other figure alike, not always on the one after it.
    const samples = { sh: [] as number[], exec: [] as number[], run: [] as number[], sweep: [] as number[] };
    const figures: [number[], () => Promise<void>][] = [
      [samples.sh, spawnShTrue],
      [samples.exec, () => main.call("exec_command", { cmd: "true" })],
      [samples.run, () => main.call("run_terminal_cmd", { command: "true" })],
      [samples.sweep, () => sweep.call("exec_command", { cmd: "true" })],
    ];
    for (const [, fn] of figures) await fn();
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < figures.length; k++) {
        const [into, fn] = figures[(i + k) % figures.length]!;
        const t = performance.now();
        await fn();
        into.push(performance.now() - t);
      }
    }
    const sh = median(samples.sh);
    const exec = median(samples.exec);
    const run = median(samples.run);
    const sw = median(samples.sweep);
    return [
      {
        id: "x",
        figure: "short `exec_command` (`true`): client → daemon → contained command → result",
        baseline: `\`sh -c true\` spawned directly: ${ms(sh)}; \`run_terminal_cmd\`: ${ms(run)}`,
        result: ms(exec),
        ratio: `${(exec / sh).toFixed(1)}× direct spawn; ${(exec / run).toFixed(2)}× run_terminal_cmd`,
        goal: "≤ 1.25× run_terminal_cmd",
        met: exec <= run * 1.25 ? "yes" : "no",
      },
      {
        id: "x2",
        figure: "the same `exec_command`, contained by a PID namespace vs the /proc sweep",
        baseline: `sweep (TOOLD_EXEC_CONTAINMENT=sweep): ${ms(sw)}`,
        result: ms(exec),
        ratio: `${(exec / sw).toFixed(2)}×`,
        goal: "n/a (the cost of the namespace)",
        met: "n/a",
      },
    ];
  } finally {
    for (const c of clients) c.close();
    await Promise.all(
      daemons.map(
        (d) =>
          new Promise<void>((resolve) => {
            if (d.exitCode !== null) return resolve();
            d.once("exit", () => resolve());
            d.kill("SIGTERM");
            setTimeout(() => {
              if (d.exitCode === null) d.kill("SIGKILL");
            }, 5000).unref();
          }),
      ),
    );
  }
}
