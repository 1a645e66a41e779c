/**
 * The protocol fuzzer behind `npm run fuzz` and test/reliability/fuzz.test.ts. Against a live
 * daemon it sends, case by case: random bytes, truncated and malformed frames, oversized frames,
 * random JSON, JSON-RPC requests of the wrong shape, and tool calls whose arguments are generated
 * from each tool's input schema (from tools/list) with paths aimed at escaping the workspace.
 * Meanwhile a well-behaved client keeps calling and must never fail. Every case is generated from
 * (seed, case number) with fast-check, so a failing case can be replayed alone.
 */
import { createHash } from "node:crypto";
import net from "node:net";
import { lstat, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import fc from "fast-check";
import { ToolDClient, type ToolDescriptor } from "../../src/client/index.js";
import { pidAlive, procRss, rng, sleep, type Sandbox } from "./harness.js";
import { frame, oneShot, RawConn, type Framing, type Outcome } from "./wire.js";

/** Config of the fuzz workspace: commands denied, deletes allowed (aimed only inside), small frames. */
export const FUZZ_TOML = `# written by the fuzzer
[tools]
default_policy = "allow"
[tools.policies]
run_terminal_cmd = "deny"
delete_file = "allow"
[daemon]
log_level = "warn"
max_message_bytes = 65536
`;
export const MAX_MESSAGE_BYTES = 65536;

export type CaseKind =
  | "bytes"
  | "truncated"
  | "malformed_header"
  | "oversized"
  | "json"
  | "wrong_shape"
  | "tool_call"
  | "deep_json"
  | "non_reading";

/** Weights out of 100. Kinds that need a fresh connection are rarer: they cost a connect each. */
export const CASE_MIX: Readonly<Record<CaseKind, number>> = {
  bytes: 4,
  truncated: 3,
  malformed_header: 2,
  oversized: 1,
  json: 18,
  wrong_shape: 29,
  tool_call: 39,
  /** Nesting past the decoder's depth limit: in arguments, as a request id, as a cancel id. */
  deep_json: 3,
  /** A client that asks for big answers and never reads them (opened, then dropped later). */
  non_reading: 1,
};

export interface FuzzOptions {
  cases: number;
  /** Number of the first case (default 0): with `cases: 1`, replays one case of a run. */
  firstCase?: number;
  seed: number;
  /** Concurrent fuzz connections. */
  workers: number;
  /** How long a well-formed request may go unanswered before it counts as lost. */
  answerTimeoutMs?: number;
  onProgress?: (done: number) => void;
  /**
   * Glob arguments only from a fixed list of ordinary globs. A workaround while glob matching can
   * backtrack exponentially on crafted globs (see docs/reliability.md); off by default.
   */
  benignGlobs?: boolean;
}

export interface FuzzReport {
  /** Cases run (fewer than asked when the run stopped early). */
  cases: number;
  byKind: Record<string, number>;
  wallMs: number;
  casesPerSec: number;
  /** Well-formed requests sent / answered; unanswered must be 0. */
  requests: { sent: number; answered: number; unanswered: number; closedBeforeAnswer: number };
  /** Answers by case kind and JSON-RPC error code ("result" for results); tool results with isError by tool. */
  answerCodes: Record<string, number>;
  toolErrorsByTool: Record<string, number>;
  /** Internal errors (-32603) are bugs worth a look even when the daemon survives them. */
  internalErrors: string[];
  oversized: { sent: number; answeredWithError: number };
  /** Deep requests (a valid id, params past the depth limit) sent, and answered -32602 as owed. */
  deep: { sent: number; answeredInvalidParams: number };
  /** Clients that never read their answers; the daemon must stay bounded and serve everyone else. */
  nonReadingClients: number;
  /** Fuzzed run_terminal_cmd calls that ran (policy is deny): must be 0. */
  commandsRan: number;
  goodClient: { calls: number; failures: number; maxMs: number; firstFailure?: string };
  /** Set when the daemon stopped answering the well-behaved client: the case number reached. */
  stalledAtCase?: number;
  daemonAlive: boolean;
  samePid: boolean;
  outsideChanged: string[];
  rss: { startBytes?: number; endBytes?: number };
  /** From daemon/stats at the end: where the memory is (the file cache holds what was read). */
  end?: { heapUsedBytes: number; fileCacheBytes: number; fileCacheEntries: number; activeResources?: number };
}

// ------------------------------------------------------------------ the fuzz workspace

export async function prepareFuzzWorkspace(sb: Sandbox): Promise<void> {
  await mkdir(path.join(sb.root, "src", "nested"), { recursive: true });
  await mkdir(path.join(sb.root, "stable"), { recursive: true });
  await writeFile(path.join(sb.root, "stable", "anchor.txt"), "the well-behaved client reads this\n");
  for (let i = 0; i < 8; i++) {
    await writeFile(
      path.join(sb.root, "src", `file${i}.ts`),
      `export const x${i} = ${i};\n// needle ${i}\n`.repeat(20),
    );
  }
  await writeFile(path.join(sb.root, "src", "nested", "deep.txt"), "deep\n");
  await writeFile(path.join(sb.root, "README.md"), "# fuzz\n");
  // What non-reading clients ask for: big answers they never read.
  await writeFile(path.join(sb.root, "stable", "big.txt"), `${"b".repeat(1023)}\n`.repeat(1024));
  // The folder next door, and symlinks into it: the sandbox must refuse to follow them.
  await mkdir(path.join(sb.sibling, "sub"), { recursive: true });
  await writeFile(path.join(sb.sibling, "secret.txt"), "outside the workspace: must never change\n");
  await writeFile(path.join(sb.sibling, "sub", "keep.txt"), "also outside\n");
  await symlink(sb.sibling, path.join(sb.root, "escape"));
  await symlink(path.join(sb.sibling, "secret.txt"), path.join(sb.root, "escape-file.txt"));
}

/** Every entry below `dir` with its type, mode and content hash. */
export async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const abs = path.join(d, e.name);
      const st = await lstat(abs);
      const rel = path.relative(dir, abs);
      if (e.isDirectory()) {
        out.set(rel, `dir ${st.mode.toString(8)}`);
        await walk(abs);
      } else if (e.isFile()) {
        out.set(
          rel,
          `file ${st.mode.toString(8)} ${createHash("sha256")
            .update(await readFile(abs))
            .digest("hex")}`,
        );
      } else {
        out.set(rel, `other ${st.mode.toString(8)}`);
      }
    }
  };
  await walk(dir);
  return out;
}

function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed: string[] = [];
  for (const [k, v] of before)
    if (after.get(k) !== v) changed.push(`${k}: ${after.has(k) ? "changed" : "removed"}`);
  for (const k of after.keys()) if (!before.has(k)) changed.push(`${k}: added`);
  return changed;
}

// ------------------------------------------------------------------ generators

const METHODS = [
  "initialize",
  "tools/list",
  "tools/call",
  "daemon/stats",
  "daemon/status",
  "config/get",
  "config/reload",
];
/** Never sent: it would end the run. */
const FORBIDDEN_METHODS = new Set(["daemon/shutdown"]);

const segment = fc.stringMatching(/^[a-z0-9_][a-z0-9_.-]{0,11}$/).filter((s) => s !== "." && s !== "..");

/** Paths only inside the workspace (no `..`, no symlink names): what deletes may aim at. */
function safePath(known: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constantFrom(...known),
    fc.array(segment, { minLength: 1, maxLength: 3 }).map((p) => p.join("/")),
    fc.tuple(fc.constantFrom(...known.filter((k) => !k.includes("."))), segment).map(([a, b]) => `${a}/${b}`),
  );
}

/** Any path, including attempts to leave the workspace; all of those aim at the sibling folder. */
function anyPath(sb: Sandbox, known: readonly string[]): fc.Arbitrary<string> {
  const outside = [
    "../outside/secret.txt",
    "../outside/new.txt",
    "../outside",
    "../outside/sub/keep.txt",
    `${sb.sibling}/secret.txt`,
    `${sb.sibling}/sub`,
    `${sb.root}/../outside/secret.txt`,
    "escape/secret.txt",
    "escape/new.txt",
    "escape",
    "escape/sub/keep.txt",
    "escape-file.txt",
    "src/../../outside/secret.txt",
    "./escape/../escape/secret.txt",
  ];
  return fc.oneof(
    { weight: 4, arbitrary: safePath(known) },
    { weight: 3, arbitrary: fc.constantFrom(...outside) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "",
        ".",
        "/",
        "..",
        "\u0000",
        "a\u0000b",
        "src/\u0000",
        "~",
        "$HOME",
        "C:\\x",
        "src//file0.ts",
        "src/./file0.ts/",
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 20 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 5000 }).map((n) => "a".repeat(n)) },
  );
}

/** A patch: sometimes well-formed (with paths from the generators), sometimes junk. */
function patchText(sb: Sandbox, known: readonly string[]): fc.Arbitrary<string> {
  const lines = fc.array(
    fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("export const x0 = 0;", "// needle 0")),
    { maxLength: 4 },
  );
  const op = fc.oneof(
    fc
      .tuple(anyPath(sb, known), lines)
      .map(([p, ls]) => [`*** Add File: ${p}`, ...ls.map((l) => `+${l}`)].join("\n")),
    safePath(known).map((p) => `*** Delete File: ${p}`),
    fc
      .tuple(anyPath(sb, known), fc.option(anyPath(sb, known)), lines, lines)
      .map(([p, mv, minus, plus]) =>
        [
          `*** Update File: ${p}`,
          ...(mv ? [`*** Move to: ${mv}`] : []),
          "@@",
          ...minus.map((l) => `-${l}`),
          ...plus.map((l) => `+${l}`),
        ].join("\n"),
      ),
  );
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .array(op, { minLength: 1, maxLength: 3 })
        .map((ops) => ["*** Begin Patch", ...ops, "*** End Patch"].join("\n")),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        "*** Begin Patch",
        "*** Begin Patch\n*** End Patch",
        "apply_patch <<'EOF'\n*** Begin Patch\n*** End Patch\nEOF",
      ),
    },
  );
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
};

const PATH_KEYS = /^(path|cwd|file_path|dir|directory|root|target|source|destination)$/;

/**
 * An arbitrary for values of `schema`: mostly valid, sometimes at or past its bounds, sometimes of
 * the wrong type, so validation is fuzzed as well as the handlers behind it.
 */
export function fromSchema(
  schema: JsonSchema,
  ctx: { key: string; tool: string; sb: Sandbox; known: readonly string[]; benignGlobs: boolean },
): fc.Arbitrary<unknown> {
  const wrong = fc.jsonValue({ maxDepth: 2 });
  let valid: fc.Arbitrary<unknown>;
  if (schema.const !== undefined) valid = fc.constant(schema.const);
  else if (schema.enum) valid = fc.constantFrom(...schema.enum);
  else if (schema.anyOf || schema.oneOf) {
    valid = fc.oneof(...(schema.anyOf ?? schema.oneOf ?? []).map((s) => fromSchema(s, ctx)));
  } else {
    const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
    switch (type) {
      case "object": {
        const props = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const entries = Object.entries(props).map(([k, s]) =>
          fc
            .option(fromSchema(s, { ...ctx, key: k }), { freq: required.has(k) ? 25 : 2 })
            .map((v) => [k, v] as const),
        );
        // Rarely an unknown key (fc.option's freq is the odds of *no* value).
        const extra = fc
          .option(fc.tuple(fc.string({ maxLength: 8 }), wrong), { freq: 1, nil: null })
          .chain((x) => fc.constantFrom(...new Array<typeof x>(30).fill(null), x));
        valid = fc.tuple(fc.tuple(...entries), extra).map(([es, ex]) => {
          const o: Record<string, unknown> = {};
          for (const [k, v] of es) if (v !== null) o[k] = v;
          if (ex) o[ex[0]] = ex[1];
          return o;
        });
        if (schema.patternProperties) {
          const inner = Object.values(schema.patternProperties)[0] ?? {};
          valid = fc.dictionary(fc.string({ maxLength: 10 }), fromSchema(inner, ctx), { maxKeys: 4 });
        }
        break;
      }
      case "array":
        valid = fc.array(fromSchema(schema.items ?? {}, ctx), { maxLength: 4 });
        break;
      case "integer":
      case "number": {
        const min = schema.minimum ?? -1000;
        const max = Math.min(schema.maximum ?? 100_000, 100_000);
        valid = fc.oneof(
          {
            weight: 10,
            arbitrary: fc.integer({ min: Math.ceil(min), max: Math.max(Math.ceil(min), Math.floor(max)) }),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(min - 1, max + 1, 0, -1, 2 ** 31, Number.MAX_SAFE_INTEGER),
          },
          {
            weight: 1,
            arbitrary:
              type === "number" ? fc.double({ noNaN: true }) : fc.double({ min: 0.5, max: 3.5, noNaN: true }),
          },
        );
        break;
      }
      case "boolean":
        valid = fc.boolean();
        break;
      case "string":
        if (schema.pattern) {
          valid = fc.stringMatching(new RegExp(schema.pattern));
        } else if (PATH_KEYS.test(ctx.key)) {
          valid = ctx.tool === "delete_file" ? safePath(ctx.known) : anyPath(ctx.sb, ctx.known);
        } else if (ctx.tool === "apply_patch" && ctx.key === "input") {
          valid = patchText(ctx.sb, ctx.known);
        } else if (ctx.benignGlobs && /glob|name_pattern/.test(ctx.key)) {
          valid = fc.constantFrom(
            "*.ts",
            "**/*.ts",
            "src/**",
            "*.{ts,md}",
            "file?.ts",
            "[a-f]*",
            "!*.md",
            "**",
          );
        } else if (/pattern|regex|glob/.test(ctx.key)) {
          valid = fc.oneof(
            fc.constantFrom(
              "needle",
              "needle \\d",
              "(a+)+$",
              "[",
              "**/*.ts",
              "*.{ts,md}",
              "(?i)EXPORT",
              "\\",
              "^$",
              ".*",
              "a{1000000}",
            ),
            fc.string({ maxLength: 20 }),
          );
        } else if (/old_str/.test(ctx.key)) {
          valid = fc.oneof(
            fc.constantFrom("export const x0 = 0;", "// needle 1\n", "", "\n"),
            fc.string({ maxLength: 40 }),
          );
        } else {
          valid = fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.string({ unit: "grapheme", maxLength: 50 }),
            fc.integer({ min: 0, max: 20_000 }).map((n) => "z".repeat(n)),
          );
        }
        break;
      default:
        valid = wrong;
    }
  }
  return fc.oneof({ weight: 40, arbitrary: valid }, { weight: 1, arbitrary: wrong });
}

function toolCallArb(
  tools: readonly ToolDescriptor[],
  sb: Sandbox,
  known: readonly string[],
  benignGlobs: boolean,
): fc.Arbitrary<{ name: unknown; arguments: unknown }> {
  const perTool = tools.map((t) =>
    fromSchema(t.inputSchema as JsonSchema, { key: "", tool: t.name, sb, known, benignGlobs }).map(
      (args) => ({ name: t.name as unknown, arguments: args }),
    ),
  );
  return fc.oneof(
    { weight: 20, arbitrary: fc.oneof(...perTool) },
    // Unknown names, aliases in odd case, and names of the wrong type.
    {
      weight: 1,
      arbitrary: fc.record({
        name: fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom("READ_FILE", "run_pty_cmd", "exec_command", null, 7),
        ),
        arguments: fc.jsonValue({ maxDepth: 2 }),
      }),
    },
  );
}

// ------------------------------------------------------------------ running

interface Counters {
  sent: number;
  answered: number;
  unanswered: number;
  closedBeforeAnswer: number;
  answerCodes: Record<string, number>;
  toolErrorsByTool: Record<string, number>;
  internalErrors: string[];
  oversizedSent: number;
  oversizedAnswered: number;
  deepSent: number;
  deepAnswered: number;
  nonReading: number;
  commandsRan: number;
  byKind: Record<string, number>;
}

class NoAnswerError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoAnswerError(`${what} got no answer in ${ms} ms`)), ms);
    }),
  ]);
}

function pickKind(r: number): CaseKind {
  let x = r * 100;
  for (const [k, w] of Object.entries(CASE_MIX) as [CaseKind, number][]) if ((x -= w) < 0) return k;
  return "tool_call";
}

/** One value of `arb` for case `n`: the same (seed, n) always gives the same value. */
function gen<T>(arb: fc.Arbitrary<T>, seed: number, n: number): T {
  return fc.sample(arb, { seed: (seed * 1_000_003 + n) | 0, numRuns: 1 })[0]!;
}

function record(c: Counters, kind: CaseKind, tool: unknown, outcome: Outcome, body: string): void {
  if (outcome.kind === "timeout") {
    c.unanswered++;
    if (c.internalErrors.length < 20) c.internalErrors.push(`UNANSWERED: ${body.slice(0, 400)}`);
    return;
  }
  if (outcome.kind === "closed") {
    c.closedBeforeAnswer++;
    return;
  }
  c.answered++;
  const a = outcome.answer;
  const key = `${kind} ${a.error ? a.error.code : "result"}`;
  c.answerCodes[key] = (c.answerCodes[key] ?? 0) + 1;
  if (a.error?.code === -32603 && c.internalErrors.length < 20)
    c.internalErrors.push(`${a.error.message} <- ${body.slice(0, 200)}`);
  const result = a.result as { isError?: boolean; content?: { text?: string }[] } | undefined;
  if (
    result &&
    !result.isError &&
    typeof tool === "string" &&
    /^(run_terminal_cmd|run_pty_cmd|exec_command)$/i.test(tool)
  ) {
    c.commandsRan++;
  }
  if (result?.isError && typeof tool === "string") {
    c.toolErrorsByTool[tool] = (c.toolErrorsByTool[tool] ?? 0) + 1;
    const text = result.content?.[0]?.text ?? "";
    if (/internal error/.test(text) && c.internalErrors.length < 20)
      c.internalErrors.push(`${tool}: ${text.slice(0, 200)} <- ${body.slice(0, 200)}`);
  }
}

export async function runFuzz(sb: Sandbox, pid: number, o: FuzzOptions): Promise<FuzzReport> {
  const answerTimeoutMs = o.answerTimeoutMs ?? (Number(process.env.FUZZ_ANSWER_TIMEOUT_MS) || 30_000);
  const before = await snapshot(sb.sibling);
  const good = await ToolDClient.connect({
    workspace: sb.root,
    socket: sb.socket,
    env: sb.env,
    autoStart: false,
    clientInfo: { name: "fuzz-good" },
  });
  const tools = await good.listTools();
  const statusBefore = await good.status();
  const known = [
    "README.md",
    "src",
    "src/nested",
    "src/nested/deep.txt",
    ...Array.from({ length: 8 }, (_, i) => `src/file${i}.ts`),
    "new",
    "new/a.txt",
  ];

  const arbs = {
    bytes: fc.uint8Array({ minLength: 1, maxLength: 512 }),
    json: fc.jsonValue({ maxDepth: 3 }),
    wrongShape: fc.record({
      jsonrpc: fc.oneof(
        { weight: 8, arbitrary: fc.constant("2.0") },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
      ),
      method: fc.oneof(
        fc.constantFrom(...METHODS),
        fc.string({ maxLength: 16 }),
        fc.constantFrom("$/cancelRequest", "$/progress", "rpc.foo", "tools/", "TOOLS/LIST"),
      ),
      params: fc.oneof(
        fc.object({ maxDepth: 2 }),
        fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
        fc.constantFrom(
          {},
          { name: 5 },
          { name: "read_file", arguments: [] },
          { name: "read_file", arguments: "x" },
          { capabilities: "yes" },
        ),
      ),
    }),
    toolCall: toolCallArb(tools, sb, known, o.benignGlobs ?? false),
    truncateAt: fc.double({ min: 0, max: 1, noNaN: true }),
    header: fc.constantFrom(
      "Content-Length: abc\r\n\r\n{}",
      "Content-Length: -5\r\n\r\n{}",
      "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
      "Content-Type: application/json\r\n\r\n{}",
      "Content-Length: 99999999999999999999\r\n\r\n",
      "Content-Length: 1e3\r\n\r\n{}",
      "content-length:2\n\n{}",
      "\r\n\r\n\r\n",
      `Content-Length: 10\r\n${"X-Pad: y\r\n".repeat(2000)}\r\n`,
      "Content-Length: 2\r\n\r\n}{",
    ),
  };

  const c: Counters = {
    sent: 0,
    answered: 0,
    unanswered: 0,
    closedBeforeAnswer: 0,
    answerCodes: {},
    toolErrorsByTool: {},
    internalErrors: [],
    oversizedSent: 0,
    oversizedAnswered: 0,
    deepSent: 0,
    deepAnswered: 0,
    nonReading: 0,
    commandsRan: 0,
    byKind: {},
  };
  const goodStats = { calls: 0, failures: 0, maxMs: 0, firstFailure: undefined as string | undefined };
  let stop = false;
  let stalledAtCase: number | undefined;
  const first = o.firstCase ?? 0;
  let next = first;
  let done = 0;
  const goodLoop = (async () => {
    for (let i = 0; !stop; i++) {
      const started = performance.now();
      try {
        if (i % 3 === 2) {
          await withTimeout(good.status(), answerTimeoutMs, "daemon/status");
        } else {
          const r = await withTimeout(
            good.callTool(i % 3 === 0 ? "read_file" : "list_files", {
              path: i % 3 === 0 ? "stable/anchor.txt" : "stable",
            }),
            answerTimeoutMs,
            "tools/call",
          );
          if (
            r.isError ||
            !(r.content[0]?.text ?? "").includes(i % 3 === 0 ? "well-behaved" : "anchor.txt")
          ) {
            throw new Error(`unexpected result: ${r.content[0]?.text.slice(0, 200)}`);
          }
        }
      } catch (err) {
        goodStats.failures++;
        // No answer at all means the daemon is stuck: stop fuzzing and report where.
        if (err instanceof NoAnswerError) {
          stalledAtCase ??= next;
        }
        goodStats.firstFailure ??= (err as Error).message;
      }
      goodStats.calls++;
      goodStats.maxMs = Math.max(goodStats.maxMs, performance.now() - started);
      await sleep(5);
    }
  })();

  const rssStart = procRss(pid);
  const began = performance.now();
  /** Open non-reading clients; each is dropped a few seconds later (or at the end). */
  const silentReaders = new Set<net.Socket>();
  const worker = async (w: number) => {
    const framing: Framing = w % 2 === 0 ? "ndjson" : "lsp";
    let conn = await RawConn.open(sb.socket, framing);
    const inflight = new Set<Promise<void>>();
    const track = (kind: CaseKind, id: string, tool: unknown, body: string) => {
      c.sent++;
      const p = conn.request(id, body, answerTimeoutMs).then((out) => record(c, kind, tool, out, body));
      const q = p.finally(() => inflight.delete(q));
      inflight.add(q);
    };
    // A generated message past max_message_bytes would (rightly) end the shared connection: send
    // it on a fresh one instead, where the -32600 answer is checked like any oversized frame.
    const divertOversized = async (body: string): Promise<boolean> => {
      if (Buffer.byteLength(body) + 64 <= MAX_MESSAGE_BYTES) return false;
      c.oversizedSent++;
      if (/-32600/.test(await oneShot(sb.socket, frame(framing, body), 5000))) c.oversizedAnswered++;
      return true;
    };
    while (next < first + o.cases && stalledAtCase === undefined) {
      const n = next++;
      if (conn.closed) {
        if (c.internalErrors.length < 20) {
          c.internalErrors.push(
            `CONNECTION CLOSED by the daemon; last answer ${conn.lastReceived}; last sent ${conn.lastSent.join(" || ")}`,
          );
        }
        conn = await RawConn.open(sb.socket, framing);
      }
      const kind = pickKind(rng(o.seed * 1_000_003 + n)());
      c.byKind[kind] = (c.byKind[kind] ?? 0) + 1;
      switch (kind) {
        case "bytes": {
          const bytes = Buffer.from(gen(arbs.bytes, o.seed, n));
          await oneShot(sb.socket, bytes, 30, n % 2 === 0);
          break;
        }
        case "truncated": {
          const call = gen(arbs.toolCall, o.seed, n);
          const full = frame(
            n % 2 === 0 ? "lsp" : "ndjson",
            JSON.stringify({ jsonrpc: "2.0", id: n, method: "tools/call", params: call }),
          );
          const cut = Math.floor(gen(arbs.truncateAt, o.seed, n) * (full.length - 1));
          await oneShot(sb.socket, full.subarray(0, cut), 20, n % 3 === 0);
          break;
        }
        case "malformed_header":
          await oneShot(sb.socket, Buffer.from(gen(arbs.header, o.seed, n)), 300);
          break;
        case "oversized": {
          c.oversizedSent++;
          const huge =
            n % 2 === 0
              ? Buffer.from(`Content-Length: ${MAX_MESSAGE_BYTES + 1 + (n % 1000)}\r\n\r\n{"jsonrpc":"2.0"`)
              : Buffer.from(
                  `{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"pad":"${"p".repeat(MAX_MESSAGE_BYTES + 10)}"}}\n`,
                );
          const answer = await oneShot(sb.socket, huge, 5000);
          if (/-32600/.test(answer)) c.oversizedAnswered++;
          break;
        }
        case "json": {
          const body = JSON.stringify(gen(arbs.json, o.seed, n));
          if (!(await divertOversized(body))) conn.send(body);
          break;
        }
        case "wrong_shape": {
          const msg = gen(arbs.wrongShape, o.seed, n);
          if (FORBIDDEN_METHODS.has(msg.method)) break;
          const id = `fz-${n}`;
          const body = JSON.stringify({ ...msg, id });
          // Well-formed (JSON-RPC 2.0 with a method and object/array params) means an answer is owed.
          if (await divertOversized(body)) break;
          if (msg.jsonrpc === "2.0" && msg.method.length > 0) track(kind, id, undefined, body);
          else conn.send(body);
          break;
        }
        case "deep_json": {
          // Deeper than the decoder's limit (64) yet within max_message_bytes.
          const depth = 65 + ((n * 7919) % 20_000);
          const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`;
          const id = `fz-${n}`;
          if (n % 3 === 0) {
            // A request with a readable id owes an answer: -32602 with that id.
            const body = `{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"read_file","arguments":{"path":${deep}}}}`;
            c.sent++;
            c.deepSent++;
            const p = conn.request(id, body, answerTimeoutMs).then((out) => {
              record(c, kind, "read_file", out, body.slice(0, 200));
              if (out.kind === "answer" && out.answer.error?.code === -32602) c.deepAnswered++;
            });
            const q = p.finally(() => inflight.delete(q));
            inflight.add(q);
          } else if (n % 3 === 1) {
            conn.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":${deep}}}`);
          } else {
            conn.send(`{"jsonrpc":"2.0","id":${deep},"method":"tools/list","params":{}}`);
          }
          break;
        }
        case "non_reading": {
          c.nonReading++;
          const s = net.connect(sb.socket);
          s.on("error", () => {});
          silentReaders.add(s);
          s.once("connect", () => {
            s.pause(); // never read
            let batch = "";
            for (let i = 0; i < 32; i++) {
              batch += `${JSON.stringify({ jsonrpc: "2.0", id: i, method: "tools/call", params: { name: "read_file", arguments: { path: "stable/big.txt" } } })}\n`;
            }
            s.write(batch);
          });
          setTimeout(() => {
            s.destroy();
            silentReaders.delete(s);
          }, 3000).unref();
          break;
        }
        case "tool_call": {
          const params = gen(arbs.toolCall, o.seed, n);
          const id = `fz-${n}`;
          const body = JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params });
          if (!(await divertOversized(body))) track(kind, id, params.name, body);
          break;
        }
      }
      done++;
      if (done % 5000 === 0) o.onProgress?.(done);
      if (inflight.size >= 16) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    conn.close();
  };
  await Promise.all(Array.from({ length: o.workers }, (_, w) => worker(w)));
  for (const s of silentReaders) s.destroy();
  const wallMs = performance.now() - began;
  stop = true;
  await goodLoop;

  const alive = pidAlive(pid);
  const st = await withTimeout(good.status(), 5000, "daemon/status").catch(() => undefined);
  const samePid = st?.pid === statusBefore.pid;
  const endStats = await withTimeout(good.stats(), 5000, "daemon/stats").catch(() => undefined);
  good.close();
  await sleep(500);
  const rssEnd = procRss(pid);
  const after = await snapshot(sb.sibling);
  return {
    cases: done,
    byKind: c.byKind,
    wallMs: Math.round(wallMs),
    casesPerSec: Math.round((done / wallMs) * 1000),
    requests: {
      sent: c.sent,
      answered: c.answered,
      unanswered: c.unanswered,
      closedBeforeAnswer: c.closedBeforeAnswer,
    },
    answerCodes: c.answerCodes,
    toolErrorsByTool: c.toolErrorsByTool,
    internalErrors: c.internalErrors,
    oversized: { sent: c.oversizedSent, answeredWithError: c.oversizedAnswered },
    deep: { sent: c.deepSent, answeredInvalidParams: c.deepAnswered },
    nonReadingClients: c.nonReading,
    commandsRan: c.commandsRan,
    goodClient: {
      calls: goodStats.calls,
      failures: goodStats.failures,
      maxMs: Math.round(goodStats.maxMs),
      ...(goodStats.firstFailure ? { firstFailure: goodStats.firstFailure } : {}),
    },
    ...(stalledAtCase !== undefined ? { stalledAtCase } : {}),
    daemonAlive: alive,
    samePid,
    outsideChanged: diffSnapshots(before, after),
    rss: {
      ...(rssStart !== undefined ? { startBytes: rssStart } : {}),
      ...(rssEnd !== undefined ? { endBytes: rssEnd } : {}),
    },
    ...(endStats
      ? {
          end: {
            heapUsedBytes: endStats.process.heapUsedBytes,
            fileCacheBytes: endStats.fileCache.bytes,
            fileCacheEntries: endStats.fileCache.entries,
            ...(endStats.process.activeResources !== undefined
              ? { activeResources: endStats.process.activeResources }
              : {}),
          },
        }
      : {}),
  };
}

/** The pass conditions, as messages; empty = pass. */
export function fuzzFailures(r: FuzzReport): string[] {
  const f: string[] = [];
  if (r.stalledAtCase !== undefined) f.push(`the daemon stopped answering near case ${r.stalledAtCase}`);
  if (!r.daemonAlive) f.push("the daemon process died");
  else if (!r.samePid && r.stalledAtCase === undefined) f.push("the daemon was replaced by another process");
  if (r.requests.unanswered > 0) f.push(`${r.requests.unanswered} well-formed requests got no answer`);
  if (r.requests.closedBeforeAnswer > 0)
    f.push(`${r.requests.closedBeforeAnswer} well-formed requests lost to a closed connection`);
  if (r.goodClient.failures > 0)
    f.push(`the well-behaved client failed ${r.goodClient.failures} times (${r.goodClient.firstFailure})`);
  if (r.commandsRan > 0) f.push(`${r.commandsRan} fuzzed commands ran although run_terminal_cmd is denied`);
  if (r.outsideChanged.length > 0)
    f.push(`files outside the workspace changed: ${r.outsideChanged.slice(0, 5).join(", ")}`);
  if (r.deep.answeredInvalidParams < r.deep.sent)
    f.push(`${r.deep.sent - r.deep.answeredInvalidParams} too-deep requests got no -32602 answer`);
  if (r.oversized.answeredWithError < r.oversized.sent)
    f.push(`${r.oversized.sent - r.oversized.answeredWithError} oversized frames got no -32600 answer`);
  return f;
}
