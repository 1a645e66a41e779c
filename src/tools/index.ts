/** The explicit inventory handed to the registry. Add a tool here after writing its file. */
import type { AnyToolDefinition } from "./shared/types.js";
import { grepFileTool } from "./grep_file.js";
import { listFilesTool } from "./list_files.js";
import { readFileTool } from "./read_file.js";
import { writeFileTool } from "./write_file.js";
import { createFileTool } from "./create_file.js";
import { editFileTool } from "./edit_file.js";
import { deleteFileTool } from "./delete_file.js";
import { applyPatchTool } from "./apply_patch.js";
import { runTerminalCmdTool } from "./run_terminal_cmd.js";
import { execCommandTool } from "./exec_command.js";
import { writeStdinTool } from "./write_stdin.js";
import { moveFileTool } from "./move_file.js";
import { copyFileTool } from "./copy_file.js";
import { createDirectoryTool } from "./create_directory.js";
import { fileInfoTool } from "./file_info.js";
import { codeSearchTool } from "./code_search.js";

export const BUILTIN_TOOLS: readonly AnyToolDefinition[] = [
  readFileTool,
  listFilesTool,
  grepFileTool,
  writeFileTool,
  createFileTool,
  editFileTool,
  deleteFileTool,
  applyPatchTool,
  runTerminalCmdTool,
  execCommandTool,
  writeStdinTool,
  moveFileTool,
  copyFileTool,
  createDirectoryTool,
  fileInfoTool,
  codeSearchTool,
];
