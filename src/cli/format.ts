/** Human-readable tables for `toold tools` and `toold stats`. */
import type { StatsResult, ToolDescriptor } from "../protocol/methods.js";

function pad(cells: string[][]): string {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length))) ?? [];
  return cells
    .map((row) =>
      row
        .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

function ratio(hits: number, misses: number): string {
  const total = hits + misses;
  return total === 0 ? "-" : `${((hits / total) * 100).toFixed(1)}%`;
}

type Schema = Record<string, unknown>;

/** A JSON schema as a short type: `"list" | "recursive"`, `string[]`, `integer 1..50`, never `any` when it says more. */
export function schemaType(s: Schema): string {
  if ("const" in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  const union = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (Array.isArray(union)) return union.map((u) => schemaType(u)).join(" | ");
  const type = Array.isArray(s.type) ? (s.type as string[]).join(" | ") : (s.type as string | undefined);
  if (type === "array") {
    const items = isRecord(s.items) ? schemaType(s.items) : "any";
    return items.includes(" ") ? `(${items})[]` : `${items}[]`;
  }
  if (type === "object" && isRecord(s.properties)) {
    const required = new Set((s.required ?? []) as string[]);
    const fields = Object.entries(s.properties).map(
      ([k, v]) => `${k}${required.has(k) ? "" : "?"}: ${isRecord(v) ? schemaType(v) : "any"}`,
    );
    return `{${fields.join(", ")}}`;
  }
  if ((type === "integer" || type === "number") && (s.minimum !== undefined || s.maximum !== undefined)) {
    return `${type} ${s.minimum ?? ""}..${s.maximum ?? ""}`;
  }
  return type ?? "any";
}

function argumentsOf(t: ToolDescriptor): { name: string; required: boolean; schema: Schema }[] {
  const props = (t.inputSchema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((t.inputSchema.required ?? []) as string[]);
  return Object.entries(props).map(([name, schema]) => ({ name, required: required.has(name), schema }));
}

export function formatToolsTable(tools: ToolDescriptor[]): string {
  const lines: string[] = [];
  for (const t of tools) {
    const args = argumentsOf(t)
      .map((a) => `${a.name}${a.required ? "" : "?"}: ${schemaType(a.schema)}`)
      .join(", ");
    lines.push(`${t.name}${t.aliases?.length ? ` (aliases: ${t.aliases.join(", ")})` : ""}`);
    lines.push(`  ${t.description}`);
    lines.push(`  args: {${args}}`);
  }
  return `${lines.join("\n")}\n`;
}

/** One tool in full: description, annotations, and each argument with its type and description. */
export function formatTool(t: ToolDescriptor): string {
  const lines = [t.name];
  if (t.aliases?.length) lines.push(`aliases: ${t.aliases.join(", ")}`);
  lines.push("", t.description, "");
  const hints = Object.entries(t.annotations ?? {})
    .filter(([k, v]) => k.endsWith("Hint") && v === true)
    .map(([k]) => k.replace(/Hint$/, "").replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
  if (hints.length) lines.push(`hints: ${hints.join(", ")}`, "");
  const args = argumentsOf(t);
  if (args.length === 0) lines.push("arguments: none");
  else lines.push("arguments:");
  for (const a of args) {
    lines.push(`  ${a.name}${a.required ? " (required)" : ""}: ${schemaType(a.schema)}`);
    if (typeof a.schema.description === "string") lines.push(`      ${a.schema.description}`);
  }
  return `${lines.join("\n")}\n`;
}

function ms(v: number): string {
  return v < 10 ? v.toFixed(3) : v < 1000 ? v.toFixed(1) : v.toFixed(0);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Sections of `daemon/stats` the table and the exposition render by name; others generically. */
const KNOWN_SECTIONS = new Set([
  "uptimeMs",
  "connections",
  "requests",
  "tools",
  "hotCache",
  "memoryPool",
  "fileCache",
  "process",
]);

/** "key value" pairs of a section's numbers and booleans, for sections this CLI does not know. */
function genericLine(section: Record<string, unknown>): string {
  return Object.entries(section)
    .filter(([, v]) => typeof v === "number" || typeof v === "boolean" || typeof v === "string")
    .map(([k, v]) => `${k} ${typeof v === "number" && /bytes/i.test(k) ? formatBytes(v) : String(v)}`)
    .join("  ");
}

export function formatStatsTable(s: StatsResult): string {
  const out: string[] = [];
  out.push(
    `uptime ${(s.uptimeMs / 1000).toFixed(0)} s   connections ${s.connections.active} active / ${s.connections.total} total   requests ${s.requests.total} (${s.requests.errors} errors, ${s.requests.inFlight} in flight)`,
  );
  const rows = [["tool", "calls", "errors", "p50 ms", "p99 ms", "max ms"]];
  for (const [name, t] of Object.entries(s.tools)) {
    // HDR quantiles are bucket bounds and may sit a hair above the max; the max is exact.
    rows.push([
      name,
      String(t.calls),
      String(t.errors),
      ms(Math.min(t.p50Ms, t.maxMs)),
      ms(Math.min(t.p99Ms, t.maxMs)),
      ms(t.maxMs),
    ]);
  }
  if (rows.length === 1) rows.push(["(no calls yet)"]);
  out.push("", pad(rows));
  const h = s.hotCache;
  const p = s.memoryPool;
  const f = s.fileCache;
  out.push(
    "",
    `hot cache    ${h.enabled ? "on " : "off"}  ${h.size}/${h.capacity} instances  hits ${h.hits}  misses ${h.misses}  hit ratio ${ratio(h.hits, h.misses)}  evictions ${h.evictions}`,
    `memory pool  ${p.enabled ? "on " : "off"}  ${p.pooled} pooled (${formatBytes(p.pooledBytes ?? 0)})  hits ${p.hits}  misses ${p.misses}  hit ratio ${ratio(p.hits, p.misses)}  returned ${p.returned}  dropped ${p.dropped}`,
    `file cache   ${f.entries} files  ${formatBytes(f.bytes)} of ${formatBytes(f.maxBytes)}  hits ${f.hits}  misses ${f.misses}  hit ratio ${ratio(f.hits, f.misses)}`,
  );
  for (const [name, section] of Object.entries(s)) {
    if (KNOWN_SECTIONS.has(name) || !isRecord(section)) continue;
    const line = genericLine(section);
    if (line) out.push(`${name.padEnd(12)} ${line}`);
  }
  out.push(
    `process      rss ${formatBytes(s.process.rssBytes)}  heap ${formatBytes(s.process.heapUsedBytes)}`,
  );
  return `${out.join("\n")}\n`;
}

/** camelCase → snake_case, for metric names. */
function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^a-zA-Z0-9_]/g, "_")
    .toLowerCase();
}

/** Milliseconds → seconds without binary-fraction noise (the histogram has µs resolution). */
function seconds(msValue: number): number {
  return Math.round(msValue * 1000) / 1e6;
}

function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** Field names that are running totals (exposed as `_total` counters); other numbers are gauges. */
const COUNTER_FIELDS = new Set([
  "hits",
  "misses",
  "evictions",
  "returned",
  "dropped",
  "builds",
  "total",
  "errors",
  "calls",
  "events",
  "rescans",
  "rebuilds",
  "started",
  "killed",
  "timedOut",
]);

/**
 * `daemon/stats` in the Prometheus text exposition format (version 0.0.4): counters end in
 * `_total`, sizes are gauges in bytes, per-tool latency is a summary in seconds with 0.5 and 0.99
 * quantiles (from the daemon's HDR histograms), `_sum` and `_count`.
 */
export function formatPrometheus(s: StatsResult): string {
  const out: string[] = [];
  const metric = (
    name: string,
    type: "counter" | "gauge",
    help: string,
    samples: [labels: string, value: number][],
  ) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${labels} ${Number.isFinite(value) ? value : 0}`);
  };
  metric("toold_uptime_seconds", "gauge", "Seconds since the daemon started.", [["", seconds(s.uptimeMs)]]);
  metric("toold_connections_active", "gauge", "Open client connections.", [["", s.connections.active]]);
  metric("toold_connections_total", "counter", "Client connections accepted since start.", [
    ["", s.connections.total],
  ]);
  metric("toold_requests_total", "counter", "JSON-RPC requests handled.", [["", s.requests.total]]);
  metric("toold_request_errors_total", "counter", "JSON-RPC requests answered with an error.", [
    ["", s.requests.errors],
  ]);
  metric("toold_requests_in_flight", "gauge", "Requests being handled now.", [["", s.requests.inFlight]]);

  const tools = Object.entries(s.tools);
  const label = (tool: string) => `tool="${labelValue(tool)}"`;
  metric(
    "toold_tool_calls_total",
    "counter",
    "Tool calls, per tool.",
    tools.map(([t, v]) => [`{${label(t)}}`, v.calls]),
  );
  metric(
    "toold_tool_errors_total",
    "counter",
    "Tool calls that ended in an error, per tool.",
    tools.map(([t, v]) => [`{${label(t)}}`, v.errors]),
  );
  out.push("# HELP toold_tool_duration_seconds Tool call latency, per tool (HDR histogram quantiles).");
  out.push("# TYPE toold_tool_duration_seconds summary");
  for (const [t, v] of tools) {
    out.push(
      `toold_tool_duration_seconds{${label(t)},quantile="0.5"} ${seconds(Math.min(v.p50Ms, v.maxMs))}`,
    );
    out.push(
      `toold_tool_duration_seconds{${label(t)},quantile="0.99"} ${seconds(Math.min(v.p99Ms, v.maxMs))}`,
    );
    // Daemons older than `sumMs` omit it; Prometheus accepts a summary without `_sum`.
    if (typeof v.sumMs === "number")
      out.push(`toold_tool_duration_seconds_sum{${label(t)}} ${seconds(v.sumMs)}`);
    out.push(`toold_tool_duration_seconds_count{${label(t)}} ${v.calls}`);
  }
  metric(
    "toold_tool_duration_max_seconds",
    "gauge",
    "Slowest call, per tool.",
    tools.map(([t, v]) => [`{${label(t)}}`, seconds(v.maxMs)]),
  );

  // Cache, pool, file cache and any section another component adds: numbers by field name.
  const sections: [string, unknown][] = [
    ["hot_cache", s.hotCache],
    ["memory_pool", s.memoryPool],
    ["file_cache", s.fileCache],
    ...Object.entries(s)
      .filter(([name]) => !KNOWN_SECTIONS.has(name))
      .map(([name, v]): [string, unknown] => [snake(name), v]),
  ];
  for (const [prefix, section] of sections) {
    if (!isRecord(section)) continue;
    for (const [field, value] of Object.entries(section)) {
      const num = typeof value === "boolean" ? (value ? 1 : 0) : value;
      if (typeof num !== "number") continue;
      const base = `toold_${prefix}_${snake(field)}`;
      if (COUNTER_FIELDS.has(field))
        metric(
          base.endsWith("_total") ? base : `${base}_total`,
          "counter",
          `${prefix}.${field} since start.`,
          [["", num]],
        );
      else metric(base, "gauge", `${prefix}.${field}.`, [["", num]]);
    }
  }
  metric("toold_process_resident_memory_bytes", "gauge", "Daemon resident set size.", [
    ["", s.process.rssBytes],
  ]);
  metric("toold_process_heap_used_bytes", "gauge", "Daemon V8 heap in use.", [["", s.process.heapUsedBytes]]);
  return `${out.join("\n")}\n`;
}

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const HIDDEN_LOG_KEYS = new Set(["time", "level", "msg", "module", "pid", "hostname"]);

function logValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (isRecord(v) && typeof v.message === "string") return JSON.stringify(v.message); // serialized errors
  return JSON.stringify(v) ?? String(v);
}

/** One pino JSON line as `time level module msg key=value…`; a line that is not JSON is returned as is. */
export function formatLogLine(line: string): string {
  let rec: unknown;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  if (!isRecord(rec)) return line;
  const level =
    typeof rec.level === "number" ? (LEVEL_NAMES[rec.level] ?? String(rec.level)) : String(rec.level ?? "");
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN_LOG_KEYS.has(k))
    .map(([k, v]) => `${k}=${logValue(v)}`);
  const time =
    typeof rec.time === "string"
      ? rec.time
      : typeof rec.time === "number"
        ? new Date(rec.time).toISOString()
        : "";
  const head = [time, level.padEnd(5), String(rec.module ?? "-").padEnd(8), String(rec.msg ?? "")];
  return [...head, ...fields].join(" ").trimEnd();
}
