/**
 * How an approval shows a call: the one rendering used by the daemon's `client/approve`
 * `display`, the CLI's y/N prompt and the MCP bridge's elicitation, so what a human approves is
 * what runs. The arguments that say what the call does (command, cwd, env, shell, paths) come
 * first and in full, whatever order the agent gave its keys in; the other arguments follow,
 * shortened. Characters that render invisibly or reorder text (C0/C1 controls, bidi controls
 * such as U+202E, zero-width and other format characters, unusual spaces) are shown as escapes.
 */

/** Arguments that say what a call does, shown first, in this order, never shortened. */
const PRIMARY_KEYS = [
  "command",
  "cmd",
  "shell",
  "login",
  "cwd",
  "workdir",
  "env",
  "session_id",
  "chars",
  "path",
  "paths",
  "source",
  "destination",
] as const;

/** Longest rendering of one other argument (file contents, a patch body) before it is shortened. */
export const OTHER_ARGUMENT_MAX_CHARS = 1000;

/**
 * Characters a terminal or chat UI shows as nothing, as a space, or by reordering their
 * neighbours: controls (C0, DEL, C1), format characters (bidi embeddings, overrides and isolates,
 * zero-width joiners, soft hyphen, tag characters), line and paragraph separators, private-use,
 * unassigned and lone surrogate code points, spaces other than U+0020, and letters that render
 * blank (Hangul fillers, braille blank, combining grapheme joiner, variation selectors).
 */
const INVISIBLE =
  /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Cs}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000\u115F\u1160\u3164\uFFA0\u2800]|\u034F|\p{Variation_Selector}/gu;

const NAMED_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every invisible or reordering character replaced by a visible escape (`\n`, `\u{202E}`). */
export function escapeInvisible(text: string): string {
  return text.replace(INVISIBLE, (ch) => {
    const named = NAMED_ESCAPES[ch];
    if (named !== undefined) return named;
    const code = ch.codePointAt(0) ?? 0;
    return `\\u{${code.toString(16).toUpperCase().padStart(4, "0")}}`;
  });
}

/** POSIX shell quoting, only where a word needs it: what `argv` a human would type. */
function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

function renderValue(value: unknown): string {
  if (typeof value === "string") return value.length === 0 ? '""' : value;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.length === 0 ? "[]" : value.map(shellWord).join(" ");
  }
  return JSON.stringify(value) ?? String(value);
}

/** One `key: value` entry; an object (env) gets one `NAME=value` line per entry, aligned. */
function renderEntry(key: string, value: unknown, maxChars: number | undefined): string[] {
  const label = `  ${escapeInvisible(key)}: `;
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return [`${label}{}`];
    const pad = " ".repeat(label.length);
    return entries.map(
      ([k, v], i) =>
        `${i === 0 ? label : pad}${escapeInvisible(k)}=${escapeInvisible(typeof v === "string" ? v : renderValue(v))}`,
    );
  }
  let text = renderValue(value);
  if (maxChars !== undefined && text.length > maxChars) {
    text = `${text.slice(0, maxChars)}… (${text.length - maxChars} more characters)`;
  }
  return [`${label}${escapeInvisible(text)}`];
}

/**
 * The files a patch names (`*** Add File: a`, `*** Move to: b`, `+++ b/c`): a patch's paths are
 * what an approval must show, and its body is shortened like any other long argument.
 */
function patchPaths(text: string): string[] {
  const paths: string[] = [];
  for (const m of text.matchAll(
    /^(?:\*\*\* (?:Add|Update|Delete) File: |\*\*\* Move to: |(?:---|\+\+\+) )(.*)$/gm,
  )) {
    const p = (m[1] ?? "").trim();
    if (p.length > 0 && p !== "/dev/null" && !paths.includes(p)) paths.push(p);
  }
  return paths;
}

export interface ApprovalRequest {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly reason: string;
}

/**
 * The text of an approval: a header naming the tool and why it is asked, the arguments that say
 * what the call does in full, then the others (each at most `otherMaxChars`).
 */
export function renderApproval(request: ApprovalRequest, options: { otherMaxChars?: number } = {}): string {
  const otherMax = options.otherMaxChars ?? OTHER_ARGUMENT_MAX_CHARS;
  const args = request.arguments;
  const lines = [`toold: allow ${escapeInvisible(request.tool)}? (${escapeInvisible(request.reason)})`];
  const primary = new Set<string>(PRIMARY_KEYS);
  for (const key of PRIMARY_KEYS) {
    if (Object.hasOwn(args, key)) lines.push(...renderEntry(key, args[key], undefined));
  }
  for (const [key, value] of Object.entries(args)) {
    if (typeof value !== "string" || primary.has(key)) continue;
    const paths = patchPaths(value);
    if (paths.length > 0) lines.push(...renderEntry(`files in ${key}`, paths, undefined));
  }
  for (const [key, value] of Object.entries(args)) {
    if (!primary.has(key)) lines.push(...renderEntry(key, value, otherMax));
  }
  return lines.join("\n");
}
