/** `toold tools [NAME] [--json]`: the tools and their arguments, or one tool in full. */
import { EXIT, printJson, UsageError, withClient, type Command } from "../command.js";
import { didYouMean } from "../suggest.js";

export const tools: Command = {
  name: "tools",
  usage: "tools [NAME] [--json] [--names]",
  summary: "the tools with their descriptions and arguments; one tool in full with NAME",
  details: "Starts the daemon when none answers (unless --no-start).",
  options: {
    json: {
      type: "boolean",
      description: "print the descriptors (name, description, inputSchema, annotations, aliases) as JSON",
    },
    names: {
      type: "boolean",
      description: "print only the names, one per line (for scripts and completion)",
    },
  },
  examples: ["toold tools", "toold tools grep_file", "toold tools --json | jq '.tools[].name'"],
  async run({ values, args, globals }) {
    if (args.length > 1) throw new UsageError(`tools takes at most one tool name, got ${args.length}`);
    const list = await withClient(globals, true, (c) => c.listTools());
    const [name] = args;
    if (name !== undefined) {
      const tool = list.find((t) => t.name === name || t.aliases?.includes(name));
      if (!tool) {
        const names = list.flatMap((t) => [t.name, ...(t.aliases ?? [])]);
        throw new UsageError(
          `unknown tool "${name}"${didYouMean(name, names)}; run \`toold tools\` for the list`,
        );
      }
      if (values.json === true) printJson(tool);
      else process.stdout.write((await import("../format.js")).formatTool(tool));
      return EXIT.ok;
    }
    if (values.names === true) process.stdout.write(list.map((t) => `${t.name}\n`).join(""));
    else if (values.json === true) printJson({ tools: list });
    else process.stdout.write((await import("../format.js")).formatToolsTable(list));
    return EXIT.ok;
  },
};
