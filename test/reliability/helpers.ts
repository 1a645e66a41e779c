/** Small helpers shared by the reliability tests (the daemon harness itself is scripts/reliability/harness.ts). */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { ToolDClient } from "../../src/client/index.js";
import type { Sandbox } from "../../scripts/reliability/harness.js";

export function connect(sb: Sandbox, name = "reliability-test"): Promise<ToolDClient> {
  return ToolDClient.connect({
    workspace: sb.root,
    socket: sb.socket,
    env: sb.env,
    autoStart: false,
    clientInfo: { name },
  });
}

/** Files below `root` whose names contain ".toold-" (the atomic writer's temp files). */
export async function leftoverTempFiles(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const abs = path.join(dir, entry.name);
      if (entry.name.includes(".toold-")) found.push(path.relative(root, abs));
      if (entry.isDirectory()) await walk(abs);
    }
  };
  await walk(root);
  return found.sort();
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
