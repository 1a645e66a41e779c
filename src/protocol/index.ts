/** `toold/protocol`: method declarations, their types and the error codes, with no runtime deps. */
export * from "./methods.js";
export { ErrorCodes, type ErrorCode } from "./errors.js";
