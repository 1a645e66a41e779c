/** write_file: writes a whole text file atomically (overwrite, append, or only when absent). */
import { Type } from "@sinclair/typebox";
import { WRITE_MODES, writeTextFile } from "./shared/write-text.js";
import { ArgumentError, defineTool } from "./shared/types.js";

export const inputSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description: "File path, relative to the workspace root. Missing parent folders are created.",
    }),
    content: Type.String({ description: "The text to write (UTF-8)." }),
    mode: Type.Optional(
      Type.Union(
        WRITE_MODES.map((m) => Type.Literal(m)),
        {
          description:
            '"overwrite" (default) replaces the file; "fail_if_exists" refuses an existing file; ' +
            '"append" adds content at the end (creating the file if needed); "skip_if_exists" leaves an existing file alone.',
        },
      ),
    ),
    overwrite: Type.Optional(
      Type.Boolean({
        description:
          'VT Code\'s switch: true is mode "overwrite", false is mode "fail_if_exists". Give it or mode, not both.',
      }),
    ),
  },
  { additionalProperties: false },
);

export const writeFileTool = defineTool({
  name: "write_file",
  description:
    "Write a whole text file in the workspace, atomically (temp file + rename; the file's permissions are kept). " +
    'mode: "overwrite" (default), "fail_if_exists", "append", "skip_if_exists". Creates missing parent folders. ' +
    "To change part of a file use edit_file.",
  inputSchema,
  annotations: {
    title: "Write file",
    readOnlyHint: false,
    destructiveHint: true,
    idempotentHint: false,
    openWorldHint: false,
  },
  example: { path: "notes/todo.md", content: "- ship it\n" },
  // VT Code's names: `contents`, `text`, `data` for the text; `write_mode` for the mode.
  argumentAliases: {
    file_path: "path",
    contents: "content",
    text: "content",
    data: "content",
    write_mode: "mode",
  },
  changes: (args) => [{ path: args.path }],
  async handler(args, ctx) {
    const fromSwitch =
      args.overwrite === undefined ? undefined : args.overwrite ? "overwrite" : "fail_if_exists";
    if (fromSwitch !== undefined && args.mode !== undefined && args.mode !== fromSwitch) {
      throw new ArgumentError(
        "overwrite",
        `overwrite: ${String(args.overwrite)} contradicts mode "${args.mode}": give one of them`,
      );
    }
    return writeTextFile(ctx, "write_file", args.path, args.content, args.mode ?? fromSwitch ?? "overwrite");
  },
});
