/** create_file: writes a new text file; refuses a path that already exists. */
import { Type } from "@sinclair/typebox";
import { writeTextFile } from "./shared/write-text.js";
import { defineTool } from "./shared/types.js";

export const inputSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      description:
        "Path of the new file, relative to the workspace root. Missing parent folders are created.",
    }),
    content: Type.String({ description: "The text of the new file (UTF-8)." }),
  },
  { additionalProperties: false },
);

export const createFileTool = defineTool({
  name: "create_file",
  description:
    "Create a new text file in the workspace (and any missing parent folders). Fails if the path already exists: " +
    "use write_file to replace a file or edit_file to change one.",
  inputSchema,
  annotations: {
    title: "Create file",
    readOnlyHint: false,
    destructiveHint: false,
    idempotentHint: false,
    openWorldHint: false,
  },
  argumentAliases: { file_path: "path" },
  changes: (args) => [{ path: args.path }],
  async handler(args, ctx) {
    return writeTextFile(ctx, "create_file", args.path, args.content, "fail_if_exists");
  },
});
