/** `toold socket`: the socket path of this workspace's daemon (for socat and scripts). */
import { resolveTarget } from "../../client/index.js";
import { connectOptions, EXIT, type Command } from "../command.js";

export const socket: Command = {
  name: "socket",
  usage: "socket",
  summary: "print the socket path of this workspace's daemon",
  details: "Does not start the daemon; pair it with `toold start` when a script needs one running.",
  options: {},
  examples: [
    "toold socket",
    `echo '{"jsonrpc":"2.0","id":1,"method":"daemon/status"}' | socat - UNIX-CONNECT:"$(toold socket)"`,
  ],
  async run({ globals }) {
    process.stdout.write(`${resolveTarget(connectOptions(globals)).socket}\n`);
    return EXIT.ok;
  },
};
