#!/usr/bin/env node
/**
 * The `toold` program. A plain `toold call` tries the quick path first (quick-call.ts: a few small
 * modules, no command table nor client library), since a one-off call's start-up is most of its
 * cost; everything else, and every call the quick path hands back before sending it, runs the
 * full command line (command-line.ts). Importing this module runs nothing; only running it as the
 * program does.
 */
import { realpathSync } from "node:fs";
import { quickCall } from "./quick-call.js";

export { EXIT } from "./command.js";

/** Runs the command line and returns the exit code; errors become one line on stderr. */
export async function cli(argv: string[]): Promise<number> {
  return (await quickCall(argv)) ?? (await import("./command-line.js")).runCommandLine(argv);
}

/** True when this module is the program (`toold`, `node dist/cli/main.js`), through any symlink. */
function isProgram(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync.native(argv1) === realpathSync.native(new URL(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const exitCode = await cli(process.argv.slice(2));
  // Let stdout drain before exiting (a pipe may be slow).
  process.stdout.write("", () => process.exit(exitCode));
}
