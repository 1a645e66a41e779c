/** Process entry of the daemon: `node dist/daemon/entry.js --workspace DIR --socket PATH [--foreground]`. */
import { unsupportedPlatform } from "../workspace/locate.js";

const unsupported = unsupportedPlatform();
if (unsupported) {
  process.stderr.write(`toold: ${unsupported}\n`);
  process.exit(1);
}
const { main } = await import("./main.js");
void main(process.argv.slice(2));
