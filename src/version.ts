import { readFileSync } from "node:fs";

/** The package version; the client restarts a daemon whose version differs from its own. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
