/**
 * `[commands]` rules for run_terminal_cmd, with VT Code's semantics: a deny rule that matches
 * wins; when there are allow rules, one of them must match; with no allow rule at all every
 * command is allowed. allow_list/deny_list name programs (basename of the first word of each
 * simple command in the line); globs and regexes match the whole command line.
 *
 * This is a guard rail against mistakes, NOT a security boundary: a shell can run a program
 * under another name (`sh -c`, `env`, `eval`, an interpreter, a script in the workspace).
 */
import path from "node:path";
import picomatch from "picomatch";
import { compileRegex } from "../support/regex.js";

export interface CommandRules {
  readonly allow_list: readonly string[];
  readonly deny_list: readonly string[];
  readonly allow_glob: readonly string[];
  readonly deny_glob: readonly string[];
  readonly allow_regex: readonly string[];
  readonly deny_regex: readonly string[];
}

export type CommandDecision =
  | { verdict: "allow"; rule?: string }
  | {
      /** deny: a rule refuses it; prompt: a deny rule cannot be checked, so a human decides. */
      verdict: "deny" | "prompt";
      /** The config key and the entry that decided, e.g. `commands.deny_list = "rm"`. */
      rule: string;
      reason: string;
    };

/** Compiles one `[commands]` regex (RE2: a pattern from the config cannot hang the daemon). */
interface Tester {
  test(text: string): boolean;
}

export function compileCommandRegex(source: string): Tester {
  return compileRegex(source, "u");
}

/**
 * Splits a shell line into simple commands at unquoted `;`, `&`, `|` and newlines. A command
 * substitution (`$(…)`, backticks, also inside double quotes) and a subshell `( … )` hold
 * commands of their own; the text around them stays with the outer command.
 */
export function simpleCommands(line: string): string[][] {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: '"' | "'" | undefined;
  /** Open substitutions: what closes each, and the outer command's state to resume. */
  const stack: { close: string; words: string[]; word: string; inWord: boolean; quote: '"' | undefined }[] =
    [];
  const endWord = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push(words);
    words = [];
  };
  const open = (close: string) => {
    stack.push({ close, words, word, inWord, quote: quote === '"' ? '"' : undefined });
    words = [];
    word = "";
    inWord = false;
    quote = undefined;
  };
  const close = () => {
    endCommand();
    const outer = stack.pop() as (typeof stack)[number];
    ({ words, word, inWord, quote } = outer);
    // The substitution's output is part of the outer word.
    inWord = true;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === "\\" && i + 1 < line.length) word += line[++i];
      else if (c === "$" && line[i + 1] === "(") {
        open(")");
        i++;
      } else if (c === "`") open("`");
      else word += c;
      continue;
    }
    const arithmeticEnd = c === "$" && line.startsWith("$((", i) ? arithmetic(line, i) : -1;
    if (arithmeticEnd !== -1) {
      // Arithmetic $(( … )) runs nothing: keep it as part of the word.
      word += line.slice(i, arithmeticEnd + 1);
      inWord = true;
      i = arithmeticEnd;
    } else if (stack.length > 0 && c === stack[stack.length - 1]?.close) {
      close();
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (c === "$" && line[i + 1] === "(") {
      open(")");
      i++;
    } else if (c === "`" || c === "(") {
      open(c === "`" ? "`" : ")");
    } else if (c === "&" && (line[i - 1] === ">" || line[i - 1] === "<" || line[i + 1] === ">")) {
      word += c; // a redirection (2>&1, &>file), not a command separator
      inWord = true;
    } else if (";&|\n)".includes(c)) {
      endCommand();
    } else if (/\s/.test(c)) {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  // Unclosed substitutions: their commands still count.
  while (stack.length > 0) close();
  endCommand();
  return commands;
}

/**
 * The index of the `)` closing the arithmetic expansion `$((` at `start`, or -1 when it holds a
 * command substitution (then it is parsed as commands, which is the safe reading) or never closes.
 */
function arithmetic(line: string, start: number): number {
  let depth = 0;
  for (let j = start + 1; j < line.length; j++) {
    const ch = line[j];
    if (ch === "`" || (ch === "$" && line[j + 1] === "(" && j > start + 1)) return -1;
    if (ch === "(") depth++;
    else if (ch === ")" && --depth === 0) return j;
  }
  return -1;
}

/** Shell words that start a simple command without being a program. */
const SHELL_KEYWORDS = new Set([
  "if",
  "then",
  "else",
  "elif",
  "fi",
  "do",
  "done",
  "while",
  "until",
  "for",
  "case",
  "esac",
  "!",
  "{",
  "}",
  "time",
]);
/** Programs that run the next word as a program: both names count. */
const WRAPPERS = new Set([
  "exec",
  "command",
  "builtin",
  "nohup",
  "nice",
  "env",
  "sudo",
  "doas",
  "xargs",
  "timeout",
  "stdbuf",
  "setsid",
]);

const isAssignment = (w: string) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);
const isRedirection = (w: string) => /^\d*[<>]/.test(w);

/**
 * Program names a command runs: the basename of each simple command's first word (after
 * VAR=value assignments, redirections and shell keywords), plus the program a wrapper such as
 * `env` or `sudo` runs.
 */
export function programNames(command: string | readonly string[]): string[] {
  const commands = typeof command === "string" ? simpleCommands(command) : [[...command]];
  const names: string[] = [];
  for (const words of commands) {
    let i = 0;
    const skip = () => {
      while (
        i < words.length &&
        (isAssignment(words[i] as string) ||
          isRedirection(words[i] as string) ||
          SHELL_KEYWORDS.has(words[i] as string))
      )
        i++;
    };
    skip();
    while (i < words.length) {
      const program = path.basename(words[i] as string);
      if (program.length > 0) names.push(program);
      if (!WRAPPERS.has(program)) break;
      i++;
      while (i < words.length && (words[i] as string).startsWith("-")) i++;
      skip();
    }
  }
  return names;
}

/** The command line globs and regexes see: the string itself, or the argv joined by spaces. */
export function commandLine(command: string | readonly string[]): string {
  return typeof command === "string" ? command.trim() : command.join(" ");
}

interface CompiledRules {
  allowList: ReadonlySet<string>;
  denyList: ReadonlySet<string>;
  allowGlob: { source: string; match: (s: string) => boolean }[];
  denyGlob: { source: string; match: (s: string) => boolean }[];
  allowRegex: { source: string; re: Tester }[];
  denyRegex: { source: string; re: Tester }[];
  hasAllowRules: boolean;
}

/** Configs are frozen and replaced on reload: compile each rule set once. */
const compiled = new WeakMap<CommandRules, CompiledRules>();

function compile(rules: CommandRules): CompiledRules {
  let c = compiled.get(rules);
  if (c) return c;
  // bash: `*` also matches `/` and spaces, as a glob over a whole command line must.
  const glob = (source: string) => ({ source, match: picomatch(source, { bash: true, dot: true }) });
  c = {
    allowList: new Set(rules.allow_list),
    denyList: new Set(rules.deny_list),
    allowGlob: rules.allow_glob.map(glob),
    denyGlob: rules.deny_glob.map(glob),
    allowRegex: rules.allow_regex.map((source) => ({ source, re: compileCommandRegex(source) })),
    denyRegex: rules.deny_regex.map((source) => ({ source, re: compileCommandRegex(source) })),
    hasAllowRules: rules.allow_list.length + rules.allow_glob.length + rules.allow_regex.length > 0,
  };
  compiled.set(rules, c);
  return c;
}

/** Decides whether `command` (run_terminal_cmd's argument) may run under `rules`. */
export function evaluateCommand(rules: CommandRules, command: string | readonly string[]): CommandDecision {
  const c = compile(rules);
  const line = commandLine(command);
  const programs = programNames(command);
  const denied = (rule: string, reason: string): CommandDecision => ({ verdict: "deny", rule, reason });

  for (const program of programs) {
    if (c.denyList.has(program)) return denied(`commands.deny_list = "${program}"`, `it runs \`${program}\``);
  }
  for (const g of c.denyGlob) {
    if (g.match(line))
      return denied(`commands.deny_glob = "${g.source}"`, "the command line matches the glob");
  }
  for (const r of c.denyRegex) {
    if (r.re.test(line))
      return denied(`commands.deny_regex = "${r.source}"`, "the command line matches the regex");
  }
  if (!c.hasAllowRules) return { verdict: "allow" };

  // With allow rules, a whole-line glob or regex allows the line; else every program must be listed.
  for (const g of c.allowGlob)
    if (g.match(line)) return { verdict: "allow", rule: `commands.allow_glob = "${g.source}"` };
  for (const r of c.allowRegex)
    if (r.re.test(line)) return { verdict: "allow", rule: `commands.allow_regex = "${r.source}"` };
  if (c.allowList.size > 0 && programs.length > 0 && programs.every((p) => c.allowList.has(p))) {
    return { verdict: "allow", rule: "commands.allow_list" };
  }
  const unlisted = programs.find((p) => !c.allowList.has(p));
  return denied(
    "commands.allow_list/allow_glob/allow_regex",
    unlisted !== undefined
      ? `\`${unlisted}\` matches no allow rule (with allow rules set, only matching commands run)`
      : "the command matches no allow rule (with allow rules set, only matching commands run)",
  );
}
