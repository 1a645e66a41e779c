import type { ToolAnnotations } from "../../protocol/methods.js";

/** The hints of a tool that only reads inside the workspace: safe to retry, changes nothing. */
export function readOnlyAnnotations(title: string): ToolAnnotations {
  return {
    title,
    readOnlyHint: true,
    destructiveHint: false,
    idempotentHint: true,
    openWorldHint: false,
  };
}
