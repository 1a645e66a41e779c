/** Process entry of the daemon: `node dist/daemon/entry.js --workspace DIR --socket PATH [--foreground]`. */
import { main } from "./main.js";

void main(process.argv.slice(2));
