/** Every JSON-RPC error code the daemon answers with, in one namespace. */
export const ErrorCodes = {
  /** Invalid JSON was received. */
  ParseError: -32700,
  /** Not a valid JSON-RPC request object, or a message over `max_message_bytes` or nested too deep. */
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

/**
 * An error that crosses the wire: it becomes a JSON-RPC error response with this code (as the
 * MCP SDK's `McpError`). A tool's own failure is not one of these: it is a result with
 * `isError: true` (`ToolFailure` in src/tools/shared/types.ts). The client raises the same class
 * (its `RpcError` extends it) for an error the daemon answered.
 */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** -32602: the params or a tool's arguments do not match its schema. */
export class InvalidParamsError extends ProtocolError {
  constructor(message: string, data?: unknown) {
    super(ErrorCodes.InvalidParams, message, data);
  }
}

/** -32601: no such method, or no such tool. */
export class MethodNotFoundError extends ProtocolError {
  constructor(message: string, data?: unknown) {
    super(ErrorCodes.MethodNotFound, message, data);
  }
}

/** -32001: the daemon is draining. */
export class ShuttingDownError extends ProtocolError {
  constructor(message = "the daemon is shutting down; retry to reach a new one") {
    super(ErrorCodes.ShuttingDown, message);
  }
}

/** -32800: the caller cancelled the request before it ran. */
export class RequestCancelledError extends ProtocolError {
  constructor(message: string) {
    super(ErrorCodes.RequestCancelled, message);
  }
}
