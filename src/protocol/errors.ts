/** Every JSON-RPC error code the daemon answers with, in one namespace. */
export const ErrorCodes = {
  /** Invalid JSON was received. */
  ParseError: -32700,
  /** Not a valid JSON-RPC request object, or a message over `max_message_bytes`. */
  InvalidRequest: -32600,
  /** Unknown method, or unknown tool name. */
  MethodNotFound: -32601,
  /** Arguments that do not match the method's or the tool's input schema. */
  InvalidParams: -32602,
  InternalError: -32603,
  /** The daemon is draining and takes no new calls. Retry against the next daemon. */
  ShuttingDown: -32001,
  /** Too many calls in flight on this connection or in the daemon. Retry later. */
  Overloaded: -32002,
  /** `config/reload` found an invalid vtcode.toml; the old config stays in force. */
  ConfigInvalid: -32003,
  /** `journal/undo` refused: a path changed since the entry (data.path names it); pass force to restore anyway. */
  JournalConflict: -32010,
  /** `journal/undo` cannot restore the entry: no such entry, a path was not recorded, or the journal is off. */
  NotUndoable: -32011,
  /** The caller cancelled the request (LSP's code). */
  RequestCancelled: -32800,
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
