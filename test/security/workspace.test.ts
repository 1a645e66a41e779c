/**
 * Workspace confinement, unit level: the published escapes of peer tool servers (string-prefix
 * checks, symlinks out, dangling links, links swapped in after the check) and property-based
 * tests that no resolved path ever leaves the workspace.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, realpath, rename, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { defaultConfig, parseConfig } from "../../src/config/load.js";
import { isWithin, protectedBy, Workspace } from "../../src/workspace/workspace.js";
import { PathError } from "../../src/support/path-error.js";
import {
  openConfinedForRead,
  openVerifiedDir,
  readConfined,
  removeConfined,
} from "../../src/support/confined-fs.js";
import { mkdirParents, writeFileAtomic } from "../../src/support/fs-atomic.js";
import { FileCache } from "../../src/cache/file-cache.js";

const swappedOrMissing = /changed while it was being used|ENOENT/;

const config = defaultConfig();

let base: string;
let root: string;
let outside: string;
let ws: Workspace;

/**
 * base/ws          the workspace: a/b/deep.txt, f.txt, vtcode.toml, .git/config,
 *                  in -> a (inside), up -> .. (out), out -> base/ws-evil, abs-out -> /etc,
 *                  dang -> missing, loop -> loop, cfg -> vtcode.toml, a/back -> ../f.txt
 * base/ws-evil     a sibling whose name starts with the workspace's: secret.txt
 */
before(async () => {
  base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-sec-ws-")));
  root = path.join(base, "ws");
  outside = path.join(base, "ws-evil");
  await mkdir(path.join(root, "a", "b"), { recursive: true });
  await mkdir(path.join(root, ".git"));
  await mkdir(outside);
  await writeFile(path.join(root, "a", "b", "deep.txt"), "deep");
  await writeFile(path.join(root, "f.txt"), "f");
  await writeFile(path.join(root, "vtcode.toml"), "");
  await writeFile(path.join(root, ".git", "config"), "[core]");
  await writeFile(path.join(outside, "secret.txt"), "secret");
  await symlink("a", path.join(root, "in"));
  await symlink("..", path.join(root, "up"));
  await symlink(outside, path.join(root, "out"));
  await symlink("/etc", path.join(root, "abs-out"));
  await symlink("missing", path.join(root, "dang"));
  await symlink("loop", path.join(root, "loop"));
  await symlink("vtcode.toml", path.join(root, "cfg"));
  await symlink("../f.txt", path.join(root, "a", "back"));
  ws = new Workspace(root);
});

after(() => rm(base, { recursive: true, force: true }));

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof PathError, `expected a PathError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("isWithin compares by component, never by string prefix", () => {
  test("a sibling sharing the root's name as a prefix is outside", () => {
    assert.equal(isWithin("/ws", "/ws-evil"), false);
    assert.equal(isWithin("/ws", "/ws-evil/x"), false);
    assert.equal(isWithin("/ws", "/ws/x"), true);
    assert.equal(isWithin("/ws", "/ws"), true);
    assert.equal(isWithin("/ws", "/"), false);
    assert.equal(isWithin("/ws", "/ws/..x"), true, "a name that starts with .. is still inside");
  });
});

describe("resolve (reads)", () => {
  test("plain, ./, absolute-inside and unicode paths resolve inside", async () => {
    assert.equal((await ws.resolve("f.txt")).rel, "f.txt");
    assert.equal((await ws.resolve("./a//b/../b/deep.txt")).rel, "a/b/deep.txt");
    assert.equal((await ws.resolve(path.join(root, "f.txt"))).rel, "f.txt");
    assert.equal((await ws.resolve("ü/日本.txt", { allowMissing: true })).rel, "ü/日本.txt");
  });

  test("symlinks that stay inside work and resolve to their target", async () => {
    assert.equal((await ws.resolve("in/b/deep.txt")).rel, "a/b/deep.txt");
    assert.equal((await ws.resolve("a/back")).rel, "f.txt");
  });

  test("the prefix trap: ../ws-evil and the absolute path of the sibling are refused", async () => {
    await rejects(ws.resolve("../ws-evil/secret.txt"), /outside the workspace/);
    await rejects(ws.resolve(path.join(outside, "secret.txt")), /outside the workspace/);
    await rejects(ws.resolve("/etc/passwd"), /outside the workspace/);
  });

  test("symlinks leading out are refused, whatever the route", async () => {
    await rejects(ws.resolve("out/secret.txt"), /leads outside the workspace through a symlink/);
    await rejects(ws.resolve("out"), /leads outside/);
    await rejects(ws.resolve("up/ws-evil/secret.txt"), /leads outside/);
    await rejects(ws.resolve("abs-out/passwd"), /leads outside/);
    await rejects(ws.resolve("out/new.txt", { allowMissing: true }), /leads outside/);
  });

  test("dangling links and loops are refused, NUL bytes and empty paths too", async () => {
    await rejects(ws.resolve("dang"), /symlink whose target does not exist/);
    await rejects(ws.resolve("dang", { allowMissing: true }), /symlink whose target does not exist/);
    await rejects(ws.resolve("dang/x", { allowMissing: true }), /dangling symlink/);
    await rejects(ws.resolve("loop"), /symlink loop/);
    await rejects(ws.resolve("f.txt\0.png"), /NUL byte/);
    await rejects(ws.resolve(""), /empty/);
  });
});

describe("resolveForWrite (writes, deletes, patches)", () => {
  test("a new file below missing folders resolves under its real parent", async () => {
    const t = await ws.resolveForWrite("in/new/dir/x.txt", config);
    assert.equal(t.rel, "a/new/dir/x.txt");
    assert.equal(t.exists, false);
    assert.equal(t.dir, path.join(root, "a", "new", "dir"));
    assert.equal(t.name, "x.txt");
  });

  test("a symlink inside to a file inside is written through (its target changes)", async () => {
    const t = await ws.resolveForWrite("a/back", config);
    assert.equal(t.rel, "f.txt");
    assert.equal(t.viaSymlink, true);
    const link = await ws.resolveForWrite("a/back", config, { followSymlink: false });
    assert.equal(link.rel, "a/back", "followSymlink: false names the link itself (for delete)");
  });

  test("a dangling symlink is never followed by a write", async () => {
    await rejects(ws.resolveForWrite("dang", config), /dangling symlink/);
    await rejects(ws.resolveForWrite("dang/x.txt", config), /dangling symlink/);
    assert.equal(existsSync(path.join(root, "missing")), false);
    // Deleting the link itself is fine.
    assert.equal((await ws.resolveForWrite("dang", config, { followSymlink: false })).rel, "dang");
  });

  test("links out, the prefix trap and the root itself are refused", async () => {
    await rejects(ws.resolveForWrite("out/secret.txt", config), /leads outside/);
    await rejects(ws.resolveForWrite("out", config), /leads outside/);
    await rejects(ws.resolveForWrite("abs-out/x", config), /leads outside/);
    await rejects(ws.resolveForWrite("../ws-evil/secret.txt", config), /outside the workspace/);
    await rejects(ws.resolveForWrite(".", config), /workspace root/);
    await rejects(ws.resolveForWrite("up", config), /leads outside|workspace root/);
  });

  test("protected paths: vtcode.toml and .git/** by any name, also through a link", async () => {
    for (const p of [
      "vtcode.toml",
      "./vtcode.toml",
      "a/../vtcode.toml",
      path.join(root, "vtcode.toml"),
      "cfg",
      ".git",
      ".git/config",
      ".git/hooks/pre-commit",
      "in/../.git/x",
    ]) {
      await rejects(ws.resolveForWrite(p, config), /protected by \[tools\] protected_paths/);
    }
    // The link itself may be removed: that does not touch vtcode.toml.
    assert.equal((await ws.resolveForWrite("cfg", config, { followSymlink: false })).rel, "cfg");
    // A vtcode.toml in any folder is a policy file too: toold run from that folder reads it.
    for (const p of ["a/vtcode.toml", "a/b/vtcode.toml", "in/vtcode.toml", "new/dir/vtcode.toml"]) {
      await rejects(
        ws.resolveForWrite(p, config),
        /protected by \[tools\] protected_paths \("\*\*\/vtcode\.toml"\)/,
      );
    }
  });

  test("the root config's real file is protected when vtcode.toml is a symlink to it", async () => {
    const linked = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-sec-cfg-")));
    try {
      await mkdir(path.join(linked, "conf"));
      await writeFile(path.join(linked, "conf", "policy.toml"), "[tools]\n");
      await symlink("conf/policy.toml", path.join(linked, "vtcode.toml"));
      const w = new Workspace(linked);
      await rejects(w.resolveForWrite("conf/policy.toml", config), /the workspace's config/);
      await rejects(w.resolveForWrite("./conf/../conf/policy.toml", config), /the workspace's config/);
      await rejects(w.resolveForWrite("conf", config, { recursive: true }), /the workspace's config/);
      // Its neighbours stay writable, and with vtcode.toml unprotected so is the target.
      assert.equal((await w.resolveForWrite("conf/other.toml", config)).rel, "conf/other.toml");
      const none = parseConfig(`[tools]\nprotected_paths = []\n`, "vtcode.toml").config;
      assert.equal((await w.resolveForWrite("conf/policy.toml", none)).rel, "conf/policy.toml");
    } finally {
      await rm(linked, { recursive: true, force: true });
    }
  });

  test("a recursive delete of a folder holding a protected path is refused", async () => {
    const custom = parseConfig(
      `[tools]\nprotected_paths = ["a/b/deep.txt", "secrets"]\n`,
      "vtcode.toml",
    ).config;
    await rejects(ws.resolveForWrite("a", custom, { recursive: true }), /contains "a\/b\/deep.txt"/);
    await rejects(ws.resolveForWrite("secrets/key.pem", custom), /protected/);
    assert.equal((await ws.resolveForWrite("a/b/other.txt", custom)).rel, "a/b/other.txt");
    const none = parseConfig(`[tools]\nprotected_paths = []\n`, "vtcode.toml").config;
    assert.equal(
      (await ws.resolveForWrite("vtcode.toml", none)).rel,
      "vtcode.toml",
      "an empty list protects nothing",
    );
  });

  test("protectedBy names the pattern and covers folders' contents", () => {
    assert.equal(protectedBy(["vtcode.toml", ".git/**"], ".git"), ".git/**");
    assert.equal(protectedBy(["secrets"], "secrets/a/b"), "secrets");
    assert.equal(protectedBy(["*.pem"], "key.pem"), "*.pem");
    assert.equal(protectedBy(["*.pem"], "sub/key.pem"), undefined);
    assert.equal(protectedBy(["**/*.pem"], "sub/.hidden.pem"), "**/*.pem");
  });
});

describe("confined-fs: a symlink swapped in after the check changes nothing", () => {
  test("the checked folder replaced by a link out: the verified open refuses", async () => {
    await mkdir(path.join(root, "swap"));
    const target = await ws.resolveForWrite("swap/x.txt", config);
    await rename(path.join(root, "swap"), path.join(root, "swap-old"));
    await symlink(outside, path.join(root, "swap"));
    await rejects(openVerifiedDir(target.dir), /changed while it was being used/);
    assert.equal(existsSync(path.join(outside, "x.txt")), false);
  });

  test("an ancestor of the checked folder replaced by a link out: the handle's real path gives it away", async () => {
    await mkdir(path.join(root, "anc", "sub"), { recursive: true });
    await mkdir(path.join(outside, "sub"), { recursive: true });
    const target = await ws.resolveForWrite("anc/sub/x.txt", config);
    await rename(path.join(root, "anc"), path.join(root, "anc-old"));
    await symlink(outside, path.join(root, "anc"));
    await rejects(openVerifiedDir(target.dir), /changed while it was being used/);
  });

  test("writeFileAtomic (every write tool's writer): a folder swapped after the check is not written through", async () => {
    await mkdir(path.join(root, "w"));
    const target = await ws.resolveForWrite("w/secret.txt", config);
    await rename(path.join(root, "w"), path.join(root, "w-old"));
    await symlink(outside, path.join(root, "w"));
    await rejects(writeFileAtomic(target.abs, "pwned"), /changed while it was being used/);
    assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), "secret");
    // Without the swap the same call writes.
    const ok = await ws.resolveForWrite("w-old/ok.txt", config);
    await writeFileAtomic(ok.abs, "fine");
    assert.equal(await readFile(path.join(root, "w-old", "ok.txt"), "utf8"), "fine");
  });

  test("removeConfined (delete_file, apply_patch): a folder swapped after the check is not deleted through", async () => {
    await mkdir(path.join(root, "del", "tree", "deeper"), { recursive: true });
    await writeFile(path.join(root, "del", "tree", "deeper", "f"), "f");
    await mkdir(path.join(outside, "tree"), { recursive: true });
    await writeFile(path.join(outside, "tree", "keep"), "keep");
    const file = await ws.resolveForWrite("del/secret.txt", config, { followSymlink: false });
    const tree = await ws.resolveForWrite("del/tree", config, { followSymlink: false, recursive: true });
    await rename(path.join(root, "del"), path.join(root, "del-old"));
    await symlink(outside, path.join(root, "del"));
    await rejects(removeConfined(file.abs), /changed while it was being used/);
    await rejects(removeConfined(tree.abs, { recursive: true }), /changed while it was being used/);
    assert.equal(await readFile(path.join(outside, "secret.txt"), "utf8"), "secret");
    assert.equal(await readFile(path.join(outside, "tree", "keep"), "utf8"), "keep");
    // Unswapped, a recursive delete through the handle removes the whole tree.
    const real = await ws.resolveForWrite("del-old/tree", config, { followSymlink: false, recursive: true });
    await removeConfined(real.abs, { recursive: true });
    assert.equal(existsSync(path.join(root, "del-old", "tree")), false);
  });

  test("a file replaced by a link after it was resolved is not read", async () => {
    await writeFile(path.join(root, "r.txt"), "mine");
    const target = await ws.resolve("r.txt");
    const h = await openConfinedForRead(target.abs);
    assert.equal((await h.readFile("utf8")).toString(), "mine");
    await h.close();
    await rm(path.join(root, "r.txt"));
    await symlink(path.join(outside, "secret.txt"), path.join(root, "r.txt"));
    await rejects(openConfinedForRead(target.abs), /became a symlink/);
  });

  test("the file cache (read_file's reader) refuses a file swapped for a link after the check", async () => {
    const cache = new FileCache({ maxBytes: 1024 * 1024 });
    await writeFile(path.join(root, "c.txt"), "mine");
    const target = await ws.resolve("c.txt");
    assert.equal(await cache.read(target.abs, (b) => b.toString()), "mine");
    await rm(path.join(root, "c.txt"));
    await symlink(path.join(outside, "secret.txt"), path.join(root, "c.txt"));
    await rejects(
      cache.read(target.abs, (b) => b.toString()),
      /became a symlink/,
    );
  });

  test("every reader refuses a file whose folder was swapped for a link after the check", async () => {
    // read_file and cold grep (the file cache, small and large files), warm grep (readTrusted),
    // and the tools' own reads (readConfined): none may follow the swapped folder.
    await mkdir(path.join(root, "rd"));
    await writeFile(path.join(root, "rd", "secret.txt"), "mine");
    await writeFile(path.join(outside, "big.txt"), "secret".repeat(400_000));
    await writeFile(path.join(root, "rd", "big.txt"), "mine");
    const small = await ws.resolve("rd/secret.txt");
    const big = await ws.resolve("rd/big.txt");
    await rename(path.join(root, "rd"), path.join(root, "rd-old"));
    await symlink(outside, path.join(root, "rd"));
    const cache = new FileCache({ maxBytes: 64 * 1024 * 1024 });
    const swappedAway = /changed while it was being used/;
    await rejects(
      cache.read(small.abs, (b) => b.toString()),
      swappedAway,
    );
    await rejects(
      cache.read(big.abs, (b) => b.toString()),
      swappedAway,
    );
    assert.equal(
      cache.readTrusted(small.abs, (b) => b.toString()),
      undefined,
    );
    await rejects(readConfined(small.abs), swappedAway);
    assert.equal(cache.stats().entries, 0, "nothing from outside was cached");
  });

  test("missing folders are created through verified handles, never through a swapped one", async () => {
    await mkdir(path.join(root, "mk"));
    const target = await ws.resolveForWrite("mk/new/deeper/f.txt", config);
    await rename(path.join(root, "mk"), path.join(root, "mk-old"));
    await symlink(outside, path.join(root, "mk"));
    await rejects(mkdirParents(target.abs), swappedOrMissing);
    assert.equal(existsSync(path.join(outside, "new")), false);
  });

  test("names through the verified folder cannot climb out", async () => {
    const dir = await openVerifiedDir(root);
    try {
      assert.throws(() => dir.at("../x"), PathError);
      assert.throws(() => dir.at(".."), PathError);
      await writeFile(dir.at("via-handle.txt"), "ok");
      assert.equal(await readFile(path.join(root, "via-handle.txt"), "utf8"), "ok");
    } finally {
      await dir.close();
    }
  });
});

describe("property: a component swapped for a link after the check is never read through", () => {
  test("every reader returns the checked file's bytes or refuses with ELOOP/ENOENT", async () => {
    // A tree p0/p1/.../file.txt inside, the same names outside holding the secret; after the
    // path is resolved, one component (a folder or the file) is swapped for a link to its
    // outside twin, or a folder's contents are moved and the folder replaced by the link.
    const readers: Array<[string, (abs: string) => Promise<string>]> = [
      ["file cache read", (abs) => new FileCache({ maxBytes: 1 << 20 }).read(abs, (b) => b.toString())],
      [
        "file cache readTrusted",
        async (abs) => {
          const out = new FileCache({ maxBytes: 1 << 20 }).readTrusted(abs, (b) => b.toString());
          if (out === undefined) throw Object.assign(new Error("unreadable"), { code: "ENOENT" });
          return out;
        },
      ],
      ["readConfined", async (abs) => (await readConfined(abs)).data.toString()],
      [
        "openConfinedForRead",
        async (abs) => {
          const h = await openConfinedForRead(abs);
          try {
            return (await h.readFile()).toString();
          } finally {
            await h.close();
          }
        },
      ],
    ];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 }),
        fc.nat(),
        fc.constantFrom(...readers.keys()),
        async (depth, pick, which) => {
          const id = `prop${n++}`;
          const names = [id, ...Array.from({ length: depth }, (_, i) => `d${i}`)];
          const inside = path.join(root, ...names);
          const twin = path.join(outside, ...names);
          await mkdir(inside, { recursive: true });
          await mkdir(twin, { recursive: true });
          await writeFile(path.join(inside, "file.txt"), "mine");
          await writeFile(path.join(twin, "file.txt"), "secret");
          const target = await ws.resolve(path.join(...names, "file.txt"));
          // Swap component k (0..depth: a folder; depth+1: the file itself).
          const k = pick % (names.length + 1);
          const swappedRel = k < names.length ? names.slice(0, k + 1) : [...names, "file.txt"];
          const at = path.join(root, ...swappedRel);
          await rename(at, `${at}.moved`);
          await symlink(path.join(outside, ...swappedRel), at);
          const [name, read] = readers[which]!;
          try {
            const got = await read(target.abs);
            assert.equal(got, "mine", `${name} read through ${swappedRel.join("/")}`);
          } catch (err) {
            const code = (err as NodeJS.ErrnoException).code;
            assert.ok(code === "ELOOP" || code === "ENOENT", `${name}: ${String(err)}`);
          }
        },
      ),
      { numRuns: 120 },
    );
  });
});

describe("property: no resolved path ever leaves the workspace", () => {
  const segment = fc.constantFrom(
    ".",
    "..",
    "a",
    "b",
    "in",
    "up",
    "out",
    "abs-out",
    "dang",
    "loop",
    "cfg",
    "f.txt",
    "deep.txt",
    "back",
    "ws",
    "ws-evil",
    "secret.txt",
    "x",
    "ü",
    "日本",
    "e\u0301",
    "..x",
    "...",
    " ",
    "a\\..\\..",
    ".git",
  );
  const separator = fc.constantFrom("/", "//", "/./");
  const prefix = fc.constantFrom(
    "",
    "./",
    "/",
    () => `${root}/`,
    () => `${base}/`,
    () => `${outside}/`,
    "../",
  );
  const userPath = fc
    .tuple(prefix, fc.array(fc.tuple(segment, separator), { minLength: 1, maxLength: 7 }))
    .map(
      ([p, parts]) =>
        (typeof p === "function" ? p() : p) + parts.map(([s, sep], i) => (i === 0 ? s : sep + s)).join(""),
    );

  /** The deepest existing ancestor's realpath must be inside, and so must the file's when it exists. */
  async function assertInside(abs: string): Promise<void> {
    let probe = abs;
    for (;;) {
      try {
        const real = await realpath(probe);
        assert.ok(isWithin(root, real), `${abs} (real ${real}) escaped ${root}`);
        return;
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        probe = path.dirname(probe);
      }
    }
  }

  test("resolve: a PathError or a path inside", async () => {
    await fc.assert(
      fc.asyncProperty(userPath, fc.boolean(), async (p, allowMissing) => {
        try {
          const r = await ws.resolve(p, { allowMissing });
          assert.ok(isWithin(root, r.abs), `${p} -> ${r.abs}`);
          await assertInside(r.abs);
        } catch (err) {
          if (!(err instanceof PathError)) throw err;
        }
      }),
      { numRuns: 600 },
    );
  });

  test("resolve: a plain relative path (joined to the root) ends where path.resolve takes it", async () => {
    // "./" + p always goes through path.resolve; p itself is joined when it is names only.
    const outcome = async (p: string, allowMissing: boolean) => {
      try {
        return await ws.resolve(p, { allowMissing });
      } catch (err) {
        if (!(err instanceof PathError)) throw err;
        return "PathError";
      }
    };
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(segment, separator), { minLength: 1, maxLength: 7 }),
        fc.boolean(),
        async (parts, allowMissing) => {
          const p = parts.map(([s, sep], i) => (i === 0 ? s : sep + s)).join("");
          assert.deepEqual(await outcome(p, allowMissing), await outcome(`./${p}`, allowMissing), p);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("resolveForWrite: a PathError, or a target inside that is not protected", async () => {
    await fc.assert(
      fc.asyncProperty(userPath, fc.boolean(), async (p, follow) => {
        try {
          const t = await ws.resolveForWrite(p, config, { followSymlink: follow });
          assert.ok(isWithin(root, t.abs) && t.abs !== root, `${p} -> ${t.abs}`);
          await assertInside(t.dir);
          if (follow) await assertInside(t.abs);
          assert.equal(
            protectedBy(config.tools.protected_paths, t.rel),
            undefined,
            `${p} -> protected ${t.rel}`,
          );
        } catch (err) {
          if (!(err instanceof PathError)) throw err;
        }
      }),
      { numRuns: 600 },
    );
  });
});
