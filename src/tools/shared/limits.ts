/** Limits more than one tool enforces. */

/** Largest file a tool reads or edits whole (16 MiB). */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
