/** Process entry of the daemon: `node dist/daemon/entry.js --workspace DIR --socket PATH [--foreground]`. */
import { availableParallelism } from "node:os";
import { unsupportedPlatform } from "../workspace/locate.js";

const unsupported = unsupportedPlatform();
if (unsupported) {
  process.stderr.write(`toold: ${unsupported}\n`);
  process.exit(1);
}
// The cold search's worker threads load (tens of ms) while the daemon's own modules do, so the
// first search finds them ready (src/search/cold-search.ts; the composition root owns them).
const { ColdSearchPool } = await import("../search/cold-search.js");
const coldSearch = new ColdSearchPool({ threads: availableParallelism() });
coldSearch.start();
const { main } = await import("./main.js");
void main(process.argv.slice(2), { coldSearch });
