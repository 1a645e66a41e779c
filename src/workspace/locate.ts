/**
 * Where things are: the workspace root and the daemon's runtime files (socket, state, log).
 * Pure functions of their inputs (env, cwd, uid) so the client, CLI and daemon agree.
 */
import { existsSync, realpathSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const CONFIG_FILE_NAME = "vtcode.toml";

/** `--workspace DIR`, else the nearest ancestor of cwd holding vtcode.toml or .git, else cwd. */
export function locateWorkspace(explicit: string | undefined, cwd: string): string {
  if (explicit !== undefined) return realpathSync(path.resolve(cwd, explicit));
  const start = realpathSync(cwd);
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, CONFIG_FILE_NAME)) || existsSync(path.join(dir, ".git"))) return dir;
    if (path.dirname(dir) === dir) return start;
  }
}

/** Short, stable id of a workspace realpath. */
export function workspaceId(workspaceRoot: string): string {
  // FNV-1a, 64 bits: a stable short name, not a secret. node:crypto would cost every one-off
  // `toold call` ~7 ms of start-up just to name the socket.
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(workspaceRoot, "utf8")) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, "0");
}

export interface RuntimeEnv {
  readonly TOOLD_SOCKET?: string | undefined;
  readonly XDG_RUNTIME_DIR?: string | undefined;
}

/** `--socket`, else $TOOLD_SOCKET, else $XDG_RUNTIME_DIR/toold/<id>.sock, else <tmp>/toold-<uid>/<id>.sock. */
export function socketPathFor(
  workspaceRoot: string,
  explicit: string | undefined,
  env: RuntimeEnv,
  uid: number = os.userInfo().uid,
): string {
  if (explicit) return path.resolve(explicit);
  if (env.TOOLD_SOCKET) return path.resolve(env.TOOLD_SOCKET);
  const id = workspaceId(workspaceRoot);
  const dir = env.XDG_RUNTIME_DIR
    ? path.join(env.XDG_RUNTIME_DIR, "toold")
    : path.join(os.tmpdir(), `toold-${uid}`);
  return path.join(dir, `${id}.sock`);
}

/** Files that live next to the socket: the state file (also the start lock) and the log. */
export interface RuntimeFiles {
  readonly socket: string;
  readonly dir: string;
  readonly state: string;
  readonly log: string;
}

export function runtimeFiles(socket: string): RuntimeFiles {
  const base = socket.endsWith(".sock") ? socket.slice(0, -".sock".length) : socket;
  return { socket, dir: path.dirname(socket), state: `${base}.state.json`, log: `${base}.log` };
}

/** A workspace that cannot be used as given: the CLI prints it and exits 2. */
export class WorkspaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkspaceError";
  }
}
