/**
 * Where things are: the workspace root and the daemon's runtime files (socket, state, log).
 * Pure functions of their inputs (env, cwd, uid) so the client, CLI and daemon agree.
 *
 * One workspace has one daemon per user whatever the caller's environment: the lock and the
 * registry live in one per-user folder that does not follow $XDG_RUNTIME_DIR or $TMPDIR (MCP
 * hosts drop or change them), only the explicit $TOOLD_RUNTIME_DIR (tests, sandboxes).
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const CONFIG_FILE_NAME = "vtcode.toml";

/** Why toold cannot run here, or undefined: it needs Unix sockets and POSIX file semantics. */
export function unsupportedPlatform(platform: NodeJS.Platform = process.platform): string | undefined {
  return platform === "win32"
    ? "Windows is not supported: toold needs Unix sockets, POSIX permissions and O_NOFOLLOW; run it in WSL"
    : undefined;
}

/** A workspace that cannot be used as given: the CLI prints it and exits 2. */
export class WorkspaceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkspaceError";
  }
}

function realpathOrSelf(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The user's home folders: $HOME and the password database's (they may differ under sudo or in hosts). */
function homeFolders(env: { HOME?: string | undefined }): Set<string> {
  const homes = new Set<string>();
  for (const home of [env.HOME, os.userInfo().homedir]) if (home) homes.add(realpathOrSelf(home));
  return homes;
}

function explicitWorkspace(explicit: string, cwd: string): string {
  const abs = path.resolve(cwd, explicit);
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WorkspaceError(
      code === "ENOENT" || code === "ENOTDIR"
        ? `--workspace ${explicit}: no such folder`
        : `--workspace ${explicit}: cannot use it (${code ?? (err as Error).message})`,
    );
  }
  if (!isDir) throw new WorkspaceError(`--workspace ${explicit} is not a folder; pass the project's folder`);
  return realpathSync(abs);
}

/**
 * `--workspace DIR`, else the nearest ancestor of cwd holding vtcode.toml or .git, else cwd. An
 * implicit `/` or home folder is refused (a daemon would watch and index all of it; MCP hosts
 * start servers in `/`): naming it with --workspace is the way to really mean it.
 */
export function locateWorkspace(
  explicit: string | undefined,
  cwd: string,
  env: { HOME?: string | undefined } = process.env,
): string {
  if (explicit !== undefined) return explicitWorkspace(explicit, cwd);
  const start = realpathSync(cwd);
  let found = start;
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, CONFIG_FILE_NAME)) || existsSync(path.join(dir, ".git"))) {
      found = dir;
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  const what =
    found === path.parse(found).root
      ? "the filesystem root"
      : homeFolders(env).has(found)
        ? "your home folder"
        : undefined;
  if (what) {
    throw new WorkspaceError(
      `the workspace would be ${found} (${what}), which toold would watch and index whole; run it inside a project (a folder with .git or vtcode.toml), or pass --workspace ${found} to mean it`,
    );
  }
  return found;
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
  /** The per-user folder of sockets, locks and the registry, instead of /tmp/toold-<uid>: tests, sandboxes. */
  readonly TOOLD_RUNTIME_DIR?: string | undefined;
  /** The per-user state folder (logs, journal), instead of $XDG_STATE_HOME/toold. */
  readonly TOOLD_STATE_DIR?: string | undefined;
  readonly XDG_STATE_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}

/**
 * The per-user folder of sockets, locks and the registry: $TOOLD_RUNTIME_DIR, else
 * /tmp/toold-<uid> (a fixed path, as tmux does: not $TMPDIR nor $XDG_RUNTIME_DIR, which differ
 * between a shell and the MCP host that starts `toold mcp`).
 */
export function runtimeDir(env: RuntimeEnv, uid?: number): string {
  if (env.TOOLD_RUNTIME_DIR) return path.resolve(env.TOOLD_RUNTIME_DIR);
  // The effective uid, as os.userInfo() has it, without reading the password database (and with
  // no entry in it, in a container).
  return path.join("/tmp", `toold-${uid ?? process.geteuid?.() ?? os.userInfo().uid}`);
}

/** `--socket`, else $TOOLD_SOCKET, else <runtime>/<id>.sock. */
export function socketPathFor(
  workspaceRoot: string,
  explicit: string | undefined,
  env: RuntimeEnv,
  uid?: number,
): string {
  if (explicit) return path.resolve(explicit);
  if (env.TOOLD_SOCKET) return path.resolve(env.TOOLD_SOCKET);
  return path.join(runtimeDir(env, uid), `${workspaceId(workspaceRoot)}.sock`);
}

/**
 * The per-user state folder (kept across reboots, unlike a runtime folder): $TOOLD_STATE_DIR, else
 * $XDG_STATE_HOME/toold, else ~/.local/state/toold. Logs and the journal live there.
 */
export function stateDir(env: RuntimeEnv): string {
  if (env.TOOLD_STATE_DIR) return path.resolve(env.TOOLD_STATE_DIR);
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), ".local", "state");
  return path.join(base, "toold");
}

/**
 * Logs: `<state>/logs/`. The daemon records its log's path in the registry, so a client in
 * another environment (no XDG_STATE_HOME) still finds it.
 */
export function logDir(env: RuntimeEnv): string {
  return path.join(stateDir(env), "logs");
}

/** A workspace's runtime files: its socket, its registry entry (the lock), its last run, its log. */
export interface RuntimeFiles {
  readonly socket: string;
  /** The socket's folder (must be private). */
  readonly socketDir: string;
  /** The per-user registry folder (must be private). */
  readonly registryDir: string;
  /** `<registry>/<id>.state.json`: the running daemon's state; its exclusive creation is the lock. */
  readonly state: string;
  /** `<registry>/<id>.last.json`: the last daemon that ran (stopped, or found dead). */
  readonly last: string;
  readonly log: string;
}

export function runtimeFiles(
  workspaceRoot: string,
  socket: string,
  env: RuntimeEnv,
  uid?: number,
): RuntimeFiles {
  const id = workspaceId(workspaceRoot);
  const registryDir = runtimeDir(env, uid);
  return {
    socket,
    socketDir: path.dirname(socket),
    registryDir,
    state: path.join(registryDir, `${id}.state.json`),
    last: path.join(registryDir, `${id}.last.json`),
    log: path.join(logDir(env), `${id}.log`),
  };
}
