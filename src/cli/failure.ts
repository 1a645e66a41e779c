/** How an error ends a `toold` command: one line on stderr and its exit code (see EXIT). */
import {
  ConnectionClosedError,
  DaemonStartError,
  DaemonUnreachableError,
  ErrorCodes,
  RpcError,
} from "../client/index.js";
import { WorkspaceError } from "../workspace/locate.js";
import { EXIT, fail, UsageError } from "./command.js";

export function failWith(err: unknown): number {
  if (err instanceof UsageError || err instanceof WorkspaceError) return fail(err.message, EXIT.usage);
  if (err instanceof DaemonUnreachableError) return fail(err.message, EXIT.unreachable);
  if (err instanceof DaemonStartError)
    return fail(`could not start the daemon: ${err.message}`, EXIT.unreachable);
  if (err instanceof ConnectionClosedError) return fail(err.message, EXIT.unreachable);
  if (err instanceof RpcError) {
    const usage = err.code === ErrorCodes.InvalidParams || err.code === ErrorCodes.MethodNotFound;
    return fail(err.message, usage ? EXIT.usage : EXIT.toolError);
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === "EACCES" || code === "ECONNREFUSED" || code === "ENOENT") {
    return fail(`cannot reach the daemon: ${(err as Error).message}`, EXIT.unreachable);
  }
  return fail(`error: ${(err as Error).message}`, EXIT.toolError);
}
