/**
 * Writes the key reference of docs/configuration.md from src/config/schema.ts, so the docs cannot
 * drift from the validator. `npm run docs:config`; a test fails when the file is out of date.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BUILTIN_POLICIES, CONFIG_SECTIONS } from "../src/config/schema.js";
import { TOOL_NAMES } from "../src/config/tool-names.js";

const BEGIN = "<!-- BEGIN GENERATED: config keys (npm run docs:config) -->";
const END = "<!-- END GENERATED -->";

export function renderKeyReference(): string {
  const out: string[] = [];
  for (const [section, keys] of Object.entries(CONFIG_SECTIONS)) {
    out.push(`### \`[${section}]\``, "", "| key | type | default | what it does |", "|---|---|---|---|");
    for (const [name, spec] of Object.entries(keys)) {
      out.push(
        `| \`${name}\` | ${spec.expect.replace(/\|/g, "\\|")} | \`${JSON.stringify(spec.default)}\` | ${spec.doc} |`,
      );
    }
    out.push("");
    if (section === "tools") out.push(...toolNameTable());
  }
  return out.join("\n");
}

/** The names `[tools.policies]` understands, with their aliases and built-in entries. */
function toolNameTable(): string[] {
  const rows = TOOL_NAMES.map(
    (t) =>
      `| \`${t.name}\` | ${t.aliases.map((a) => `\`${a}\``).join(", ") || "—"} | ${BUILTIN_POLICIES[t.name] ? `\`"${BUILTIN_POLICIES[t.name]}"\`` : "`default_policy`"} |`,
  );
  return [
    "Keys of `[tools.policies]` (any case; an alias means its tool):",
    "",
    "| tool | aliases | without an entry of yours |",
    "|---|---|---|",
    ...rows,
    "",
  ];
}

export function docsPath(): string {
  return path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "configuration.md");
}

export function renderDoc(current: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start === -1 || end === -1) throw new Error(`docs/configuration.md lacks the ${BEGIN} markers`);
  return `${current.slice(0, start + BEGIN.length)}\n\n${renderKeyReference()}\n${current.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = docsPath();
  writeFileSync(file, renderDoc(readFileSync(file, "utf8")));
  console.log(`wrote ${file}`);
}
