/**
 * The ToolRegistry: an inventory of tool definitions plus the hot cache of built tool instances.
 *
 * A tool instance is what a cold process would build per call: the compiled argument validator,
 * the published JSON Schema, and the tool's own warm state. With `use_optimized_registry` on, the
 * hot cache (lru-cache, `hot_cache_size`) keeps instances between calls; an evicted instance is
 * disposed once the calls using it have finished. With it off, every call builds and disposes one.
 */
import { LRUCache } from "lru-cache";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type { TSchema } from "@sinclair/typebox";
import type { Logger } from "pino";
import { InvalidParamsError, MethodNotFoundError } from "../protocol/errors.js";
import type { HotCacheStats, ToolDescriptor, ToolResult } from "../protocol/methods.js";
import type { Config } from "../config/schema.js";
import { PathError } from "../support/path-error.js";
import {
  ArgumentError,
  errorResult,
  ToolFailure,
  type AnyToolDefinition,
  type ToolContext,
} from "./shared/types.js";
import {
  acceptedNames,
  argumentProblems,
  exampleArguments,
  invalidArgumentsMessage,
  publishedSchema,
  type ArgumentProblem,
  type InvalidArgumentsData,
} from "./shared/schema-publish.js";

export type RegistryOptimizations = Config["optimization"]["tool_registry"];

/** A built tool: validator, schema and warm state. Disposed when evicted and no longer in use. */
/** Whether a `default` appears anywhere in a schema (else filling defaults leaves arguments as they are). */
function hasDefaults(schema: unknown): boolean {
  if (typeof schema !== "object" || schema === null) return false;
  if (!Array.isArray(schema) && Object.hasOwn(schema, "default")) return true;
  return Object.values(schema).some(hasDefaults);
}

export class ToolInstance {
  readonly check: TypeCheck<TSchema>;
  readonly state: unknown;
  /** The schema gives defaults to fill in (`Value.Default` walks the schema on every call). */
  readonly fillsDefaults: boolean;
  private active = 0;
  private retired = false;
  private disposed = false;

  constructor(readonly definition: AnyToolDefinition) {
    this.check = TypeCompiler.Compile(definition.inputSchema);
    this.fillsDefaults = hasDefaults(definition.inputSchema);
    this.state = definition.createState?.();
  }

  get activeCalls(): number {
    return this.active;
  }

  enter(): void {
    if (this.disposed) throw new Error(`tool instance ${this.definition.name} used after dispose`);
    this.active++;
  }

  exit(): void {
    this.active--;
    if (this.retired && this.active === 0) this.dispose();
  }

  /** Evicted from the cache: dispose now if idle, else when the last call exits. */
  retire(): void {
    this.retired = true;
    if (this.active === 0) this.dispose();
  }

  private dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.definition.disposeState?.(this.state);
  }
}

/** Wraps a handler run (the journal records the call's changes around it). */
export type AroundRun = (
  definition: AnyToolDefinition,
  args: Record<string, unknown>,
  run: () => Promise<ToolResult>,
) => Promise<ToolResult>;

export type BeforeRun = (
  definition: AnyToolDefinition,
  args: Record<string, unknown>,
) => Promise<ToolResult | undefined>;

function normalize(name: string): string {
  return name.trim().toLowerCase();
}

/** The -32602 error for a call whose arguments do not fit the tool's schema (or each other). */
function invalidArguments(def: AnyToolDefinition, errors: ArgumentProblem[]): InvalidParamsError {
  const data: InvalidArgumentsData = {
    tool: def.name,
    errors,
    accepted: acceptedNames(def),
    example: exampleArguments(def),
  };
  return new InvalidParamsError(invalidArgumentsMessage(data), data);
}

export class ToolRegistry {
  private readonly byName = new Map<string, AnyToolDefinition>();
  private readonly descriptors: ToolDescriptor[];
  private optimizations: RegistryOptimizations;
  private hot: LRUCache<string, ToolInstance>;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private builds = 0;

  constructor(
    definitions: readonly AnyToolDefinition[],
    optimizations: RegistryOptimizations,
    private readonly log?: Logger,
  ) {
    for (const def of definitions) {
      for (const name of [def.name, ...(def.aliases ?? [])]) {
        const key = normalize(name);
        const clash = this.byName.get(key);
        if (clash) {
          throw new Error(`tool name clash: "${name}" of ${def.name} is already taken by ${clash.name}`);
        }
        this.byName.set(key, def);
      }
    }
    this.descriptors = definitions.map((def) => ({
      name: def.name,
      description: def.description,
      inputSchema: publishedSchema(def),
      annotations: { ...def.annotations },
      ...(def.aliases?.length ? { aliases: [...def.aliases] } : {}),
    }));
    this.optimizations = optimizations;
    this.hot = this.newCache(optimizations.hot_cache_size);
  }

  private newCache(capacity: number): LRUCache<string, ToolInstance> {
    return new LRUCache<string, ToolInstance>({
      max: capacity,
      dispose: (instance, _key, reason) => {
        if (reason === "evict") this.evictions++;
        // "set" replaces an entry with itself only on explicit re-set; never retire a live value.
        if (reason !== "set") instance.retire();
      },
    });
  }

  /** The definition for a name or alias (case-insensitive). */
  definition(name: string): AnyToolDefinition | undefined {
    return this.byName.get(normalize(name));
  }

  list(): ToolDescriptor[] {
    return this.descriptors;
  }

  hasOptimizationsEnabled(): boolean {
    return this.optimizations.use_optimized_registry;
  }

  /**
   * The instance for a tool, from the hot cache when enabled. The caller must `enter()` before
   * use and `exit()` after; `call` does this for you.
   */
  getTool(name: string): ToolInstance {
    const def = this.definition(name);
    if (!def) {
      throw new MethodNotFoundError(
        `unknown tool "${name}": available tools are ${this.descriptors.map((d) => d.name).join(", ")}`,
      );
    }
    if (!this.optimizations.use_optimized_registry) {
      this.builds++;
      return new ToolInstance(def);
    }
    const cached = this.hot.get(def.name);
    if (cached) {
      this.hits++;
      return cached;
    }
    this.misses++;
    this.builds++;
    const instance = new ToolInstance(def);
    this.hot.set(def.name, instance);
    return instance;
  }

  /**
   * Validates and runs one call. A bad call (unknown tool, invalid arguments) throws a
   * `ProtocolError` (a JSON-RPC error); a tool's own failure comes back as an `isError` result.
   */
  async call(
    name: string,
    rawArgs: Record<string, unknown> | undefined,
    ctx: ToolContext,
    beforeRun?: BeforeRun,
    around?: AroundRun,
  ): Promise<ToolResult> {
    const instance = this.getTool(name);
    const cold = !this.optimizations.use_optimized_registry;
    instance.enter();
    try {
      const def = instance.definition;
      const args = this.prepareArguments(instance, rawArgs);
      if (!instance.check.Check(args)) {
        throw invalidArguments(def, argumentProblems(def, instance.check.Errors(args)));
      }
      const denial = await beforeRun?.(def, args);
      if (denial) return denial;
      try {
        const run = () => def.handler(args, ctx, instance.state);
        return await (around ? around(def, args, run) : run());
      } catch (err) {
        if (err instanceof ArgumentError) {
          throw invalidArguments(def, [{ argument: err.argument, problem: err.message }]);
        }
        return this.toResult(def.name, err, ctx);
      }
    } finally {
      instance.exit();
      if (cold) instance.retire();
    }
  }

  private prepareArguments(
    instance: ToolInstance,
    rawArgs: Record<string, unknown> | undefined,
  ): Record<string, unknown> {
    const def = instance.definition;
    if (
      rawArgs !== undefined &&
      (typeof rawArgs !== "object" || rawArgs === null || Array.isArray(rawArgs))
    ) {
      throw invalidArguments(def, [{ argument: "arguments", problem: '"arguments" must be a JSON object' }]);
    }
    const args: Record<string, unknown> = { ...rawArgs };
    const aliases = def.argumentAliases;
    for (const alias in aliases) {
      const canonical = aliases[alias]!;
      if (alias in args) {
        if (canonical in args) {
          throw invalidArguments(def, [
            { argument: alias, problem: `"${alias}" and "${canonical}" name the same argument; give one` },
          ]);
        }
        args[canonical] = args[alias];
        delete args[alias];
      }
    }
    return instance.fillsDefaults ? (Value.Default(def.inputSchema, args) as Record<string, unknown>) : args;
  }

  private toResult(tool: string, err: unknown, ctx: ToolContext): ToolResult {
    if (err instanceof ToolFailure) return errorResult(err.message, err.structured);
    if (err instanceof PathError) return errorResult(err.message);
    if (ctx.signal.aborted) return errorResult(`${tool} was cancelled`);
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === "string") {
      return errorResult(`${tool} failed: ${(err as Error).message}`);
    }
    this.log?.error({ err, tool }, "tool handler threw");
    return errorResult(`${tool} failed with an internal error: ${(err as Error)?.message ?? String(err)}`);
  }

  hotCacheStats(): HotCacheStats {
    return {
      enabled: this.optimizations.use_optimized_registry,
      size: this.hot.size,
      capacity: this.optimizations.hot_cache_size,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
      builds: this.builds,
    };
  }

  /** Drops every cached instance (each is disposed once idle). */
  clearHotCache(): void {
    this.hot.clear();
  }

  /** Applies `[optimization.tool_registry]` at run time. A new capacity keeps the hottest entries. */
  configureOptimizations(next: RegistryOptimizations): void {
    const previous = this.optimizations;
    this.optimizations = next;
    if (!next.use_optimized_registry) {
      this.hot.clear();
      this.hot = this.newCache(next.hot_cache_size);
      return;
    }
    if (next.hot_cache_size === previous.hot_cache_size && previous.use_optimized_registry) return;
    const old = this.hot;
    const resized = this.newCache(next.hot_cache_size);
    // Oldest first, so the most recently used are inserted last and survive a shrink.
    const entries = [...old.rentries()] as [string, ToolInstance][];
    this.hot = resized;
    for (const [key, instance] of entries) resized.set(key, instance);
    this.log?.info({ from: previous.hot_cache_size, to: next.hot_cache_size }, "hot cache resized");
  }

  dispose(): void {
    this.hot.clear();
  }
}
