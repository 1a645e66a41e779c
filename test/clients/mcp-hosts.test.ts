/**
 * Every MCP host snippet in docs/clients.md works as written: the snippet is parsed, and `toold mcp`
 * is started with exactly its command, arguments and env, under the host's minimal environment
 * (the MCP SDK's default: HOME, LOGNAME, PATH, SHELL, TERM, USER; no XDG_RUNTIME_DIR, no
 * TOOLD_SOCKET), with `toold` on PATH as the README's install puts it. Also: `toold mcp` started in
 * `/` takes the workspace from the host's MCP roots.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseToml } from "smol-toml";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport, getDefaultEnvironment } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { CLI, REPO_ROOT } from "../helpers/daemon.js";

interface Launch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

const HOSTS = [
  "claude-code",
  "claude-code-project",
  "codex",
  "cursor",
  "vscode",
  "claude-desktop",
  "windsurf",
  "zed",
  "vtcode",
];

/** The fenced block right after `<!-- mcp-host: NAME -->`. */
function snippet(doc: string, host: string): { lang: string; body: string } {
  const m = new RegExp(`<!-- mcp-host: ${host} -->\\n\`\`\`(\\w+)\\n([\\s\\S]*?)\\n\`\`\``).exec(doc);
  assert.ok(m, `docs/clients.md has a snippet for ${host}`);
  return { lang: m[1]!, body: m[2]! };
}

type Entry = { command?: unknown; args?: unknown; env?: unknown };

function launchOf(lang: string, body: string): Launch {
  let entry: Entry | undefined;
  if (lang === "sh") {
    // claude mcp add NAME -- COMMAND ARGS...
    const words = body.trim().split(/\s+/);
    const dashes = words.indexOf("--");
    assert.ok(words[0] === "claude" && dashes > 0, body);
    entry = { command: words[dashes + 1], args: words.slice(dashes + 2) };
  } else if (lang === "json") {
    const doc = JSON.parse(body) as Record<string, Record<string, Entry>>;
    entry = (doc.mcpServers ?? doc.servers ?? doc.context_servers)?.toold;
  } else if (lang === "toml") {
    const doc = parseToml(body) as {
      mcp_servers?: Record<string, Entry>;
      mcp?: { providers?: (Entry & { name: string })[] };
    };
    entry = doc.mcp_servers?.toold ?? doc.mcp?.providers?.find((p) => p.name === "toold");
  }
  assert.ok(entry && typeof entry.command === "string", `a toold entry in ${body}`);
  assert.ok(Array.isArray(entry.args ?? []), "args is a list");
  return {
    command: entry.command,
    args: ((entry.args ?? []) as unknown[]).map(String),
    env: Object.fromEntries(
      Object.entries((entry.env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
    ),
  };
}

describe("MCP host snippets in docs/clients.md", () => {
  let base: string;
  let ws: string;
  let bin: string;
  let runtime: string;
  let home: string;
  let doc: string;
  before(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), "toold-hosts-")));
    ws = path.join(base, "project");
    bin = path.join(base, "bin");
    runtime = path.join(base, "run");
    home = path.join(base, "home");
    await mkdir(path.join(ws, ".git"), { recursive: true });
    await mkdir(path.join(ws, "sub"));
    await mkdir(bin);
    await mkdir(home);
    await mkdir(runtime, { mode: 0o700 });
    await writeFile(path.join(ws, "hello.txt"), "hello from the project\n");
    // `toold` on PATH as an install gives it: the package's bin, a symlink to dist/cli/main.js.
    await symlink(CLI, path.join(bin, "toold"));
    doc = await readFile(path.join(REPO_ROOT, "docs/clients.md"), "utf8");
  });
  after(async () => {
    const { execFileSync } = await import("node:child_process");
    try {
      execFileSync(process.execPath, [CLI, "--workspace", ws, "stop"], {
        env: { ...process.env, TOOLD_RUNTIME_DIR: runtime, HOME: home },
      });
    } catch {
      /* not running */
    }
    await rm(base, { recursive: true, force: true });
  });

  /** The host's minimal environment, plus this test's one isolation override. */
  function hostEnv(extra: Record<string, string>): Record<string, string> {
    const env = getDefaultEnvironment();
    return {
      ...env,
      PATH: `${bin}:${env.PATH ?? ""}`,
      HOME: home,
      TOOLD_RUNTIME_DIR: runtime,
      ...extra,
    };
  }

  for (const host of HOSTS) {
    it(`${host}: the snippet starts toold mcp, which serves this project`, async () => {
      const { lang, body } = snippet(doc, host);
      const launch = launchOf(lang, body);
      const substitute = (a: string) =>
        a.replaceAll("${workspaceFolder}", ws).replaceAll("/path/to/project", ws);
      const transport = new StdioClientTransport({
        command: launch.command,
        args: launch.args.map(substitute),
        env: hostEnv(launch.env),
        // Claude Desktop starts servers in `/`; the others in the project.
        cwd: host === "claude-desktop" ? "/" : ws,
        stderr: "pipe",
      });
      let stderr = "";
      transport.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
      const client = new Client({ name: `test-${host}`, version: "1.0.0" });
      await client.connect(transport);
      try {
        const { tools } = await client.listTools();
        assert.ok(
          tools.some((t) => t.name === "read_file"),
          stderr,
        );
        const result = await client.callTool({ name: "read_file", arguments: { path: "hello.txt" } });
        assert.equal(result.isError, undefined, JSON.stringify(result) + stderr);
        assert.deepEqual(result.content, [{ type: "text", text: "hello from the project\n" }]);
      } finally {
        await client.close();
      }
    });
  }

  /** `toold mcp` from `/` with no --workspace (as Claude Desktop starts it), for a host `client`. */
  async function readHelloFromSlash(client: Client): Promise<Awaited<ReturnType<Client["callTool"]>>> {
    const transport = new StdioClientTransport({
      command: "toold",
      args: ["mcp"],
      env: hostEnv({}),
      cwd: "/",
      stderr: "pipe",
    });
    await client.connect(transport);
    try {
      return await client.callTool({ name: "read_file", arguments: { path: "hello.txt" } });
    } finally {
      await client.close();
    }
  }

  it("started in / without --workspace, toold mcp uses the host's MCP root", async () => {
    const client = new Client({ name: "roots-host", version: "1.0.0" }, { capabilities: { roots: {} } });
    // The root is a folder inside the project: the workspace is found above it, as from a shell.
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: [{ uri: pathToFileURL(path.join(ws, "sub")).href, name: "project" }],
    }));
    const result = await readHelloFromSlash(client);
    assert.equal(result.isError, undefined, JSON.stringify(result));
    assert.deepEqual(result.content, [{ type: "text", text: "hello from the project\n" }]);
  });

  it("started in / with no root and no --workspace, a call says to pass --workspace", async () => {
    const result = await readHelloFromSlash(new Client({ name: "rootless-host", version: "1.0.0" }));
    assert.equal(result.isError, true);
    assert.match(JSON.stringify(result.content), /pass --workspace/);
  });
});
