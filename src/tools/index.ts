/** The explicit inventory handed to the registry. Add a tool here after writing its file. */
import type { AnyToolDefinition } from "./types.js";
import { listFilesTool } from "./list_files.js";
import { readFileTool } from "./read_file.js";

export const BUILTIN_TOOLS: readonly AnyToolDefinition[] = [readFileTool, listFilesTool];
