import { test } from "node:test";
import assert from "node:assert/strict";
import { Type } from "@sinclair/typebox";
import { pino } from "pino";
import { ToolRegistry } from "../../src/tools/registry.js";
import { ProtocolError } from "../../src/protocol/errors.js";
import {
  defineTool,
  textResult,
  type AnyToolDefinition,
  type ToolContext,
} from "../../src/tools/shared/types.js";
import { BufferPool } from "../../src/support/memory-pool.js";
import { FileCache } from "../../src/cache/file-cache.js";
import { defaultConfig } from "../../src/config/load.js";
import { Workspace } from "../../src/workspace/workspace.js";
import { ErrorCodes } from "../../src/protocol/errors.js";

interface Probe {
  built: number;
  disposed: number;
  states: { id: number; disposed: boolean }[];
}

/** A fake tool whose instances count their construction and disposal. */
function probeTool(
  name: string,
  probe: Probe,
  opts: { aliases?: string[]; wait?: () => Promise<void> } = {},
): AnyToolDefinition {
  return defineTool({
    name,
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
    description: `probe ${name}`,
    inputSchema: Type.Object(
      { n: Type.Optional(Type.Integer({ default: 7 })) },
      { additionalProperties: false },
    ),
    annotations: { readOnlyHint: true },
    argumentAliases: { number: "n" },
    createState: () => {
      const state = { id: ++probe.built, disposed: false };
      probe.states.push(state);
      return state;
    },
    disposeState: (state) => {
      state.disposed = true;
      probe.disposed++;
    },
    async handler(args, _ctx, state) {
      assert.equal(state.disposed, false, "handler ran on a disposed instance");
      await opts.wait?.();
      assert.equal(state.disposed, false, "instance disposed while a call was using it");
      return textResult(`n=${args.n} instance=${state.id}`);
    },
  });
}

function ctx(): ToolContext {
  return {
    signal: new AbortController().signal,
    workspace: new Workspace("/"),
    pool: new BufferPool({ enabled: true, maxPerClass: 4 }),
    files: new FileCache({ maxBytes: 0 }),
    config: defaultConfig(),
    log: pino({ level: "silent" }),
  };
}

const on = (size: number) => ({ use_optimized_registry: true, hot_cache_size: size });
const newProbe = (): Probe => ({ built: 0, disposed: 0, states: [] });

test("hot cache: the first call misses and builds, later calls hit the same instance", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe)], on(4));
  const r1 = await reg.call("a", {}, ctx());
  const r2 = await reg.call("a", {}, ctx());
  assert.equal(r1.content[0]?.text, "n=7 instance=1");
  assert.equal(r2.content[0]?.text, "n=7 instance=1");
  assert.deepEqual(
    { ...reg.hotCacheStats() },
    { enabled: true, size: 1, capacity: 4, hits: 1, misses: 1, evictions: 0, builds: 1 },
  );
});

test("names and aliases are case-insensitive; a clash fails at construction", () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("grep_file", probe, { aliases: ["grep_search"] })], on(4));
  assert.equal(reg.definition("GREP_SEARCH")?.name, "grep_file");
  assert.equal(reg.definition("Grep_File")?.name, "grep_file");
  assert.throws(
    () => new ToolRegistry([probeTool("a", probe, { aliases: ["B"] }), probeTool("b", probe)], on(4)),
    /name clash: "b" of b is already taken by a/,
  );
});

test("eviction disposes the least recently used instance", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe), probeTool("b", probe), probeTool("c", probe)], on(2));
  await reg.call("a", {}, ctx());
  await reg.call("b", {}, ctx());
  await reg.call("a", {}, ctx()); // a is now the most recent
  await reg.call("c", {}, ctx()); // evicts b
  const stats = reg.hotCacheStats();
  assert.equal(stats.evictions, 1);
  assert.equal(stats.size, 2);
  assert.equal(probe.disposed, 1);
  assert.equal(probe.states[1]?.disposed, true, "b's instance (built second) is disposed");
  assert.equal(probe.states[0]?.disposed, false, "a's instance stays hot");
});

test("disabled: every call builds and disposes its own instance", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe)], { use_optimized_registry: false, hot_cache_size: 4 });
  await reg.call("a", {}, ctx());
  await reg.call("a", {}, ctx());
  assert.equal(probe.built, 2);
  assert.equal(probe.disposed, 2);
  assert.equal(reg.hasOptimizationsEnabled(), false);
  const s = reg.hotCacheStats();
  assert.equal(s.size, 0);
  assert.equal(s.hits, 0);
});

test("run-time resize keeps the hottest entries and applies the new capacity", async () => {
  const probe = newProbe();
  const tools = ["a", "b", "c", "d"].map((n) => probeTool(n, probe));
  const reg = new ToolRegistry(tools, on(4));
  for (const n of ["a", "b", "c", "d", "b", "d"]) await reg.call(n, {}, ctx());
  reg.configureOptimizations(on(2));
  assert.equal(reg.hotCacheStats().capacity, 2);
  assert.equal(reg.hotCacheStats().size, 2);
  const hitsBefore = reg.hotCacheStats().hits;
  await reg.call("d", {}, ctx());
  await reg.call("b", {}, ctx());
  assert.equal(reg.hotCacheStats().hits, hitsBefore + 2, "b and d (most recent) survived the shrink");
  assert.equal(probe.states.filter((s) => s.disposed).length, 2, "a and c were disposed");
  reg.configureOptimizations(on(8));
  assert.equal(reg.hotCacheStats().capacity, 8);
  assert.equal(reg.hotCacheStats().size, 2);
});

test("turning the cache off at run time drops every instance", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe)], on(4));
  await reg.call("a", {}, ctx());
  reg.configureOptimizations({ use_optimized_registry: false, hot_cache_size: 4 });
  assert.equal(probe.disposed, 1);
  assert.equal(reg.hasOptimizationsEnabled(), false);
  reg.clearHotCache();
});

test("an instance evicted while calls use it is disposed only after the last call ends", async () => {
  const probe = newProbe();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reg = new ToolRegistry(
    [probeTool("slow", probe, { wait: () => gate }), probeTool("b", probe)],
    on(1),
  );
  const inflight = [reg.call("slow", {}, ctx()), reg.call("slow", {}, ctx()), reg.call("slow", {}, ctx())];
  await new Promise((r) => setImmediate(r));
  await reg.call("b", {}, ctx()); // evicts "slow" while three calls hold it
  assert.equal(reg.hotCacheStats().evictions, 1);
  assert.equal(probe.states[0]?.disposed, false, "still in use: not disposed yet");
  release();
  const results = await Promise.all(inflight);
  assert.ok(results.every((r) => !r.isError));
  assert.equal(probe.states[0]?.disposed, true, "disposed once idle");
});

test("clearHotCache disposes idle instances", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe)], on(4));
  await reg.call("a", {}, ctx());
  reg.clearHotCache();
  assert.equal(reg.hotCacheStats().size, 0);
  assert.equal(probe.disposed, 1);
  await reg.call("a", {}, ctx());
  assert.equal(probe.built, 2);
});

test("unknown tools and invalid arguments are protocol errors with clear messages", async () => {
  const probe = newProbe();
  const reg = new ToolRegistry([probeTool("a", probe)], on(4));
  await assert.rejects(reg.call("nope", {}, ctx()), (err: ProtocolError) => {
    assert.equal(err.code, ErrorCodes.MethodNotFound);
    assert.match(err.message, /unknown tool "nope": available tools are a/);
    return true;
  });
  await assert.rejects(reg.call("a", { n: "x" }, ctx()), (err: ProtocolError) => {
    assert.equal(err.code, ErrorCodes.InvalidParams);
    assert.match(err.message, /invalid arguments for a: n: expected integer/);
    return true;
  });
  await assert.rejects(
    reg.call("a", { m: 1 }, ctx()),
    /unknown argument "m" \(did you mean "n"\?\)\. Accepted: n, number\. Example: \{\}/,
  );
  await assert.rejects(reg.call("a", { n: 1, number: 2 }, ctx()), /"number" and "n" name the same argument/);
  const aliased = await reg.call("a", { number: 3 }, ctx());
  assert.equal(aliased.content[0]?.text, "n=3 instance=1");
});

test("many concurrent calls across a tiny cache never use a disposed instance", async () => {
  const probe = newProbe();
  const tools = ["a", "b", "c"].map((n) =>
    probeTool(n, probe, { wait: () => new Promise((r) => setTimeout(r, Math.random() * 3)) }),
  );
  const reg = new ToolRegistry(tools, on(1));
  const calls = Array.from({ length: 300 }, (_, i) => reg.call(["a", "b", "c"][i % 3] as string, {}, ctx()));
  const results = await Promise.all(calls);
  assert.equal(results.filter((r) => r.isError).length, 0);
  // Every instance that was evicted got disposed exactly once, and only the cached one is alive.
  const alive = probe.states.filter((s) => !s.disposed);
  assert.equal(alive.length, 1);
  assert.equal(probe.disposed, probe.built - 1);
});

test("published schemas carry every alias and every enum's values; validators accept what they publish", async () => {
  const { BUILTIN_TOOLS } = await import("../../src/tools/index.js");
  const reg = new ToolRegistry(BUILTIN_TOOLS, on(16));
  for (const def of BUILTIN_TOOLS) {
    const published = reg.list().find((d) => d.name === def.name)!.inputSchema as {
      properties: Record<string, { enum?: unknown[]; anyOf?: unknown[] }>;
      required?: string[];
      additionalProperties?: boolean;
    };
    for (const alias of Object.keys(def.argumentAliases ?? {})) {
      assert.ok(published.properties[alias], `${def.name} publishes its alias ${alias}`);
      // A host validating with the published schema accepts the alias alone.
      assert.ok(
        !published.required?.includes(def.argumentAliases![alias]!),
        `${def.name}: ${alias} can stand in`,
      );
    }
    for (const [name, prop] of Object.entries(published.properties)) {
      const consts = prop.anyOf?.every((b) => typeof b === "object" && b !== null && "const" in b);
      assert.ok(!consts, `${def.name}.${name}: a union of literals is published as enum`);
    }
  }
  const write = reg.list().find((d) => d.name === "write_file")!.inputSchema as {
    properties: Record<string, { enum?: unknown[] }>;
    required?: string[];
  };
  assert.deepEqual(write.properties.mode!.enum, ["overwrite", "fail_if_exists", "append", "skip_if_exists"]);
  assert.deepEqual(write.properties.write_mode!.enum, write.properties.mode!.enum);
  assert.equal(write.required, undefined);
  // A validating host (additionalProperties: false) accepts every alias name.
  for (const name of ["file_path", "contents", "text", "data", "write_mode", "overwrite"]) {
    assert.ok(write.properties[name], name);
  }
});

test("an unknown argument suggests the nearest accepted name, aliases included", async () => {
  const { BUILTIN_TOOLS } = await import("../../src/tools/index.js");
  const reg = new ToolRegistry(BUILTIN_TOOLS, on(16));
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["read_file", { filePath: "a" }, /unknown argument "filePath" \(did you mean "file_path"\?\)/],
    ["read_file", { path: "a", lineNumbers: true }, /did you mean "line_numbers"/],
    ["edit_file", { path: "a", old_string: "x", new_str: "y" }, /did you mean "old_str"/],
    ["read_file", { path: "a", zzzzzz: 1 }, /unknown argument "zzzzzz"\. Accepted: path, offset/],
  ];
  for (const [tool, args, pattern] of cases) {
    await assert.rejects(reg.call(tool, args, ctx()), (err: ProtocolError) => {
      assert.equal(err.code, ErrorCodes.InvalidParams);
      assert.match(err.message, pattern);
      assert.match(err.message, /Example: \{/);
      const data = err.data as { errors: { argument: string }[]; accepted: string[]; example: object };
      assert.ok(data.accepted.includes("file_path"));
      assert.equal(typeof data.example, "object");
      return true;
    });
  }
});
