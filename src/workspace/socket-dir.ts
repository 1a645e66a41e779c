/**
 * The socket's folder must be private: created 0700, owned by us, a real folder (not a symlink),
 * with no group/other permissions. Anything else is refused with a message that says how to fix it.
 */
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import path from "node:path";

export class SocketDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SocketDirError";
  }
}

export function ensurePrivateDir(dir: string, uid: number): void {
  const parent = path.dirname(dir);
  mkdirSync(parent, { recursive: true });
  try {
    mkdirSync(dir, { mode: 0o700 });
    // mkdir's mode is masked by the umask; set it exactly.
    chmodSync(dir, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  checkPrivateDir(dir, uid);
}

export function checkPrivateDir(dir: string, uid: number): void {
  const st = lstatSync(dir);
  if (st.isSymbolicLink()) {
    throw new SocketDirError(
      `socket folder ${dir} is a symlink; refusing to use it (another user could redirect the socket). Remove it or pass --socket in a private folder.`,
    );
  }
  if (!st.isDirectory()) {
    throw new SocketDirError(
      `socket folder ${dir} is not a directory. Remove it or pass --socket elsewhere.`,
    );
  }
  if (st.uid !== uid) {
    throw new SocketDirError(
      `socket folder ${dir} is owned by uid ${st.uid}, not by you (uid ${uid}); refusing to use it. Remove it or pass --socket in a folder you own.`,
    );
  }
  if ((st.mode & 0o077) !== 0) {
    throw new SocketDirError(
      `socket folder ${dir} has mode ${(st.mode & 0o777).toString(8).padStart(4, "0")}; it must be 0700 so no other user can reach the socket. Run: chmod 700 ${dir}`,
    );
  }
}
