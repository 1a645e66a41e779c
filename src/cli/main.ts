#!/usr/bin/env node
/**
 * The `toold` program. A plain `toold call` tries the quick path first (quick-call.ts: a few small
 * modules, no command table nor client library), since a one-off call's start-up is most of its
 * cost; everything else, and every call the quick path hands back before sending it, runs the
 * full command line (cli.ts). Importing this module runs nothing; only running it as the program does.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { quickCall } from "./quick-call.js";

/** True when this module is the program (`toold`, `node dist/cli/main.js`), through any symlink. */
function isProgram(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const argv = process.argv.slice(2);
  const exitCode = (await quickCall(argv)) ?? (await (await import("./cli.js")).cli(argv));
  // Let stdout drain before exiting (a pipe may be slow).
  process.stdout.write("", () => process.exit(exitCode));
}
