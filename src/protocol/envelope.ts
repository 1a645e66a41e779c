/**
 * From a decoded body to a JSON-RPC message, or the error to answer: nesting depth, JSON syntax
 * and the JSON-RPC 2.0 envelope, checked before anything walks the value (vscode-jsonrpc drops
 * some malformed messages silently and recurses into others).
 */
import { ErrorCodes } from "./errors.js";

/**
 * Deepest nesting of arrays and objects accepted in a message. Real calls nest a handful of levels;
 * a 100,000-deep value would overflow the stack of every recursive walk after the parser.
 */
export const MAX_JSON_DEPTH = 64;

type Id = string | number | null;

/** A JSON-RPC 2.0 message that passed the envelope check. */
export interface JsonRpcMessage {
  jsonrpc: "2.0";
  id?: Id;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

/** Malformed input, answered with an error by the connection's owner. */
export interface WireProblem {
  code: number;
  message: string;
  /** The request id when it could be read, else null. */
  id: Id;
  /** The stream cannot be resynchronised: answer, then close the connection. */
  fatal: boolean;
}

export type ParsedMessage =
  { message: JsonRpcMessage; problem?: undefined } | { message?: undefined; problem: WireProblem };

function isValidId(id: unknown): id is Id {
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) || id === null;
}

const invalid = (message: string, id: Id = null, code: number = ErrorCodes.InvalidRequest): WireProblem => ({
  code,
  message,
  id,
  fatal: false,
});

/** True when arrays/objects nest deeper than `limit`, counted outside strings; linear in the text. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  if (text.length <= limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Jump to the closing quote: one not preceded by an odd run of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j === -1) return false; // unterminated: the parser reports it
        let slashes = 0;
        while (text.charCodeAt(j - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

/** Checks the JSON-RPC 2.0 envelope; returns an error for anything vscode-jsonrpc would drop silently. */
export function checkEnvelope(value: unknown): WireProblem | undefined {
  if (Array.isArray(value))
    return invalid("batch messages are not supported: send one JSON-RPC object per message");
  if (typeof value !== "object" || value === null) {
    return invalid(
      'a message must be a JSON-RPC 2.0 object, e.g. {"jsonrpc":"2.0","id":1,"method":"tools/list"}',
    );
  }
  const msg = value as Record<string, unknown>;
  const id = isValidId(msg.id) ? msg.id : null;
  if (msg.jsonrpc !== "2.0") return invalid('"jsonrpc" must be "2.0"', id);
  if ("id" in msg && !isValidId(msg.id)) return invalid('"id" must be a string, a number or null');
  if ("method" in msg) {
    if (typeof msg.method !== "string" || msg.method.length === 0) {
      return invalid('"method" must be a non-empty string', id);
    }
    if ("params" in msg && (typeof msg.params !== "object" || msg.params === null)) {
      return invalid('"params" must be an object or an array', id);
    }
    if (msg.method === "$/cancelRequest") {
      const target = (msg.params as { id?: unknown } | undefined)?.id;
      if (typeof target !== "string" && !(typeof target === "number" && Number.isFinite(target))) {
        return invalid(
          "$/cancelRequest: params.id must be the string or number id of a request",
          id,
          ErrorCodes.InvalidParams,
        );
      }
    }
    return undefined;
  }
  if ("id" in msg && ("result" in msg || "error" in msg)) return undefined;
  return invalid('not a request, notification or response: give a "method" or a "result"/"error"', id);
}

/** Parses one message body: depth, JSON, envelope. */
export function parseMessage(body: string): ParsedMessage {
  const tooDeep = nestsDeeperThan(body, MAX_JSON_DEPTH);
  let value: unknown;
  try {
    // V8's JSON.parse does not recurse, so even a too-deep body parses: its id can be echoed.
    value = JSON.parse(body);
  } catch (err) {
    return { problem: invalid(`invalid JSON: ${(err as Error).message}`, null, ErrorCodes.ParseError) };
  }
  if (tooDeep) {
    const msg = (typeof value === "object" && value !== null ? value : {}) as Record<string, unknown>;
    const depth = `nested deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`;
    if (typeof msg.method === "string" && isValidId(msg.id) && msg.id !== null) {
      return { problem: invalid(`${msg.method}: params ${depth}`, msg.id, ErrorCodes.InvalidParams) };
    }
    return { problem: invalid(`message ${depth}`) };
  }
  const problem = checkEnvelope(value);
  if (problem) return { problem };
  const message = value as JsonRpcMessage;
  // JSON-RPC lets a request omit params; every method here takes an object, and vscode-jsonrpc
  // would answer a missing one with -32602, so a shell one-off without "params" just works.
  if (typeof message.method === "string" && "id" in message && !("params" in message)) message.params = {};
  return { message };
}
