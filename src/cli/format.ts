/** Human-readable tables for `toold tools` and `toold stats`. */
import type { StatsResult, ToolDescriptor } from "../protocol/methods.js";

function pad(cells: string[][]): string {
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length))) ?? [];
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd()).join("\n");
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

export function formatToolsTable(tools: ToolDescriptor[]): string {
  const lines: string[] = [];
  for (const t of tools) {
    const props = (t.inputSchema.properties ?? {}) as Record<string, { type?: string }>;
    const required = new Set((t.inputSchema.required ?? []) as string[]);
    const args = Object.entries(props)
      .map(([name, s]) => `${name}${required.has(name) ? "" : "?"}: ${s.type ?? "any"}`)
      .join(", ");
    lines.push(`${t.name}${t.aliases?.length ? ` (aliases: ${t.aliases.join(", ")})` : ""}`);
    lines.push(`  ${t.description}`);
    lines.push(`  args: {${args}}`);
  }
  return `${lines.join("\n")}\n`;
}

export function formatStatsTable(s: StatsResult): string {
  const out: string[] = [];
  out.push(`uptime ${(s.uptimeMs / 1000).toFixed(0)} s   connections ${s.connections.active} active / ${s.connections.total} total   requests ${s.requests.total} (${s.requests.errors} errors, ${s.requests.inFlight} in flight)`);
  const rows = [["tool", "calls", "errors", "p50 ms", "p99 ms", "max ms"]];
  for (const [name, t] of Object.entries(s.tools)) {
    rows.push([name, String(t.calls), String(t.errors), t.p50Ms.toFixed(3), t.p99Ms.toFixed(3), t.maxMs.toFixed(3)]);
  }
  out.push("", pad(rows));
  const h = s.hotCache;
  const p = s.memoryPool;
  const f = s.fileCache;
  out.push(
    "",
    `hot cache    ${h.enabled ? "on " : "off"}  ${h.size}/${h.capacity} instances  hits ${h.hits}  misses ${h.misses}  hit ratio ${ratio(h.hits, h.misses)}  evictions ${h.evictions}`,
    `memory pool  ${p.enabled ? "on " : "off"}  ${p.pooled} pooled (${formatBytes(p.pooledBytes ?? 0)})  hits ${p.hits}  misses ${p.misses}  hit ratio ${ratio(p.hits, p.misses)}  returned ${p.returned}  dropped ${p.dropped}`,
    `file cache   ${f.entries} files  ${formatBytes(f.bytes)} of ${formatBytes(f.maxBytes)}  hits ${f.hits}  misses ${f.misses}  hit ratio ${ratio(f.hits, f.misses)}`,
    `process      rss ${formatBytes(s.process.rssBytes)}  heap ${formatBytes(s.process.heapUsedBytes)}`,
  );
  return `${out.join("\n")}\n`;
}
