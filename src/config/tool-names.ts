/**
 * The tool names vtcode.toml's `[tools.policies]` speaks: each built-in tool's name and the
 * aliases it answers to. Config sits below the tools in the layers (and `toold config check` runs
 * without them), so the vocabulary lives here as data; test/unit/config.test.ts fails when a
 * tool of the registry (src/tools/index.ts) or one of its aliases is missing here.
 *
 * It is used to canonicalise policy keys at load (`Run_Terminal_Cmd`, `run_pty_cmd` →
 * `run_terminal_cmd`), to find two keys for one tool that disagree, and to suggest the nearest
 * name for a key that names no tool. The policy layer still matches keys against the live
 * registry's names and aliases at each call, so a tool missing here is never ungoverned.
 */
export interface ToolNames {
  readonly name: string;
  readonly aliases: readonly string[];
}

export const TOOL_NAMES: readonly ToolNames[] = [
  { name: "read_file", aliases: [] },
  { name: "write_file", aliases: [] },
  { name: "create_file", aliases: [] },
  { name: "edit_file", aliases: [] },
  { name: "delete_file", aliases: [] },
  { name: "list_files", aliases: [] },
  { name: "grep_file", aliases: ["grep_search"] },
  { name: "apply_patch", aliases: [] },
  { name: "run_terminal_cmd", aliases: ["run_pty_cmd"] },
  { name: "exec_command", aliases: [] },
  { name: "write_stdin", aliases: [] },
  { name: "move_file", aliases: ["rename_file"] },
  { name: "copy_file", aliases: [] },
  { name: "create_directory", aliases: ["mkdir"] },
  { name: "file_info", aliases: ["get_file_info"] },
  { name: "code_search", aliases: ["ast_grep", "structural_search"] },
];

const byLowerName = new Map<string, string>();
for (const tool of TOOL_NAMES) {
  for (const n of [tool.name, ...tool.aliases]) byLowerName.set(n.toLowerCase(), tool.name);
}

/** The canonical tool name for a policy key (a name or an alias, any case), or undefined. */
export function canonicalToolName(key: string): string | undefined {
  return byLowerName.get(key.toLowerCase());
}

/** Every name and alias, for "did you mean". */
export function allToolNames(): string[] {
  return TOOL_NAMES.flatMap((t) => [t.name, ...t.aliases]);
}
