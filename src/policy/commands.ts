/**
 * `[commands]` rules for the tools that run a command (`commandOf`), with VT Code's semantics: a
 * deny rule that matches wins; when there are allow rules, one of them must match; with no rule
 * at all every command is allowed. allow_list/deny_list name programs; globs and regexes match
 * the command line (deny ones also each simple command, unwrapped).
 *
 * The line is parsed with a real shell parser (unbash: bash and POSIX sh) and every program it
 * may run is found: in pipelines, lists, subshells, substitutions (`$(…)`, backticks, `<(…)`,
 * inside quotes, parameter defaults, arithmetic), function bodies, through wrappers that run
 * their arguments (sudo, env, timeout, xargs, nice, busybox, find -exec, …) and through shells
 * given a literal script (`sh -c '…'`, `eval '…'`, `trap '…'`, `watch '…'`), recursively.
 *
 * What cannot be known without running the line (a command name built at run time — `$x`,
 * `${IFS}`, `$(…)`, a glob or brace expansion in command position —, `eval "$x"`, `sh -c "$x"`,
 * `source file`, a shell reading a script file or stdin, a line that does not parse) is
 * reported as unknown: a deny rule then cannot be checked, and the call goes to a human
 * (`prompt`) instead of running. docs/security.md says what this does and does not promise.
 */
import path from "node:path";
import picomatch from "picomatch";
import { parse, forEachChild, type Command, type SyntaxNode, type Word } from "unbash";
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

/** What one simple command of the line runs (with the shells and wrappers it goes through). */
export interface CommandUnit {
  /** Its source text, from its program to its end. */
  readonly text: string;
  /** Basenames of the programs it may run (wrappers included), in order of appearance. */
  readonly programs: string[];
  /** Why some of what it runs cannot be known statically; empty when everything is known. */
  readonly unknown: string[];
}

/** What a command line may run, as far as can be told without running it. */
export interface CommandAnalysis {
  /** One per simple command the parser finds in the line (substitutions included). */
  readonly units: CommandUnit[];
  /** Every program of every unit. */
  readonly programs: string[];
  /** Every simple command's text, unwrapped ones and those of nested scripts too: what deny globs and regexes also see. */
  readonly simpleCommands: string[];
  /** Every reason something cannot be known (the line's own parse errors included). */
  readonly unknown: string[];
}

/** Where what is found goes: the analysis and the unit being read. */
interface Sink {
  readonly analysis: CommandAnalysis;
  readonly unit: CommandUnit;
}

function noteProgram(sink: Sink, program: string): void {
  sink.unit.programs.push(program);
  sink.analysis.programs.push(program);
}

function noteUnknown(sink: Sink, reason: string): void {
  sink.unit.unknown.push(reason);
  sink.analysis.unknown.push(reason);
}

/** Nested shells (`sh -c "sh -c '…'"`) deeper than this are not followed: unknown. */
const MAX_NESTING = 8;
/** Longer lines are not parsed (the parse would hold the daemon's thread): unknown. */
const MAX_PARSED_CHARS = 256 * 1024;

/** A word's value when it is the same whatever the environment (quotes removed), else undefined. */
function staticValue(word: Word): string | undefined {
  for (const part of word.parts ?? []) {
    switch (part.type) {
      case "Literal":
      case "SingleQuoted":
      case "AnsiCQuoted":
        continue;
      case "DoubleQuoted":
      case "LocaleString":
        if (part.parts.every((p) => p.type === "Literal")) continue;
        return undefined;
      default:
        // Expansions, substitutions, globs and brace expansions change what the word is.
        return undefined;
    }
  }
  return word.value;
}

/** One argument word: its static value, or undefined with its source text for messages. */
interface Arg {
  readonly value: string | undefined;
  readonly text: string;
}

const shells = new Set(["sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "rbash", "fish"]);

/**
 * How a wrapper's arguments read: short options that take a value (`-u root`, `-uroot`), long
 * ones that do (`--user root`; `--user=root` always), and how many operands come before the
 * command it runs (`timeout DURATION cmd`).
 */
interface WrapperSpec {
  readonly shortValue?: string;
  readonly longValue?: readonly string[];
  readonly operands?: number;
  /** Options after which no command runs (`command -v`, `ionice -p PID`). */
  readonly noCommand?: string;
  /** What runs when the command is missing: nothing (default) or a shell reading stdin. */
  readonly bareRunsShell?: boolean;
}

const WRAPPERS: Readonly<Record<string, WrapperSpec>> = {
  sudo: {
    shortValue: "CDghprtTUu",
    longValue: [
      "close-from",
      "chdir",
      "chroot",
      "group",
      "host",
      "prompt",
      "role",
      "type",
      "command-timeout",
      "other-user",
      "user",
    ],
    noCommand: "elvVkK",
  },
  doas: { shortValue: "uC" },
  pkexec: { longValue: ["user"] },
  runuser: { shortValue: "ugGs", longValue: ["user", "group", "supp-group", "shell"] },
  timeout: { shortValue: "ks", longValue: ["kill-after", "signal"], operands: 1 },
  nice: { shortValue: "n", longValue: ["adjustment"] },
  ionice: { shortValue: "cn", longValue: ["class", "classdata"], noCommand: "pPu" },
  nohup: {},
  setsid: {},
  stdbuf: { shortValue: "ioe", longValue: ["input", "output", "error"] },
  chroot: { longValue: ["userspec", "groups"], operands: 1, bareRunsShell: true },
  flock: { shortValue: "wE", longValue: ["timeout", "conflict-exit-code"], operands: 1 },
  taskset: { noCommand: "p", operands: 1 },
  chrt: {
    shortValue: "T",
    longValue: ["sched-runtime", "sched-period", "sched-deadline"],
    noCommand: "p",
    operands: 1,
  },
  numactl: {
    shortValue: "CmNpPiw",
    longValue: ["cpunodebind", "membind", "physcpubind", "preferred", "interleave"],
  },
  unshare: { shortValue: "SGRwl", longValue: ["setuid", "setgid", "root", "wd"], bareRunsShell: true },
  nsenter: { shortValue: "tSGrw", longValue: ["target", "setuid", "setgid"], bareRunsShell: true },
  time: { shortValue: "fo", longValue: ["format", "output"] },
  strace: { shortValue: "abeEIoOpPsSuUX", noCommand: "p" },
  ltrace: { shortValue: "aADeEFlnopsSuwx", noCommand: "p" },
  valgrind: {},
  catchsegv: {},
  unbuffer: {},
  caffeinate: { shortValue: "tw" },
  exec: { shortValue: "a" },
  command: { noCommand: "vV" },
  builtin: {},
  busybox: {},
  xargs: {
    shortValue: "adEILnPs",
    longValue: [
      "arg-file",
      "delimiter",
      "max-lines",
      "max-args",
      "max-procs",
      "max-chars",
      "process-slot-var",
    ],
  },
  env: { shortValue: "uCP", longValue: ["unset", "chdir"] },
};

/** Finds what a command line runs. A string is parsed as a shell line; an argv array is run as is. */
export function analyzeCommand(command: string | readonly string[]): CommandAnalysis {
  const analysis: CommandAnalysis = { units: [], programs: [], simpleCommands: [], unknown: [] };
  if (typeof command === "string") {
    analyzeScript(command, analysis, undefined, 0);
  } else {
    const unit: CommandUnit = { text: command.join(" "), programs: [], unknown: [] };
    analysis.units.push(unit);
    runWords(
      command.map((value) => ({ value, text: value })),
      unit.text,
      { analysis, unit },
      0,
    );
  }
  return analysis;
}

/**
 * A shell script given as text: the line itself (each simple command becomes a unit), or a
 * script inside one (`sh -c`, `eval`, `trap`, alias bodies: what it finds belongs to `within`).
 */
function analyzeScript(
  source: string,
  analysis: CommandAnalysis,
  within: CommandUnit | undefined,
  depth: number,
): void {
  const whole = (): Sink => {
    const unit = within ?? { text: source, programs: [], unknown: [] };
    if (!within) analysis.units.push(unit);
    return { analysis, unit };
  };
  if (depth > MAX_NESTING) return noteUnknown(whole(), `shells are nested more than ${MAX_NESTING} deep`);
  if (source.length > MAX_PARSED_CHARS) {
    return noteUnknown(
      whole(),
      `the command is longer than ${MAX_PARSED_CHARS} characters, too long to check`,
    );
  }
  const visit = (node: SyntaxNode, text: string) => {
    if (node.type === "Script") {
      const errors = (node as { errors?: readonly { message: string }[] }).errors;
      if (errors && errors.length > 0) noteUnknown(whole(), `the line does not parse: ${errors[0]?.message}`);
      // An escaped-backtick script indexes its own decoded source.
      const own = (node as { source?: string }).source;
      if (own !== undefined) text = own;
    }
    if (node.type === "Command" && node.name) {
      const unit = within ?? { text: text.slice(node.name.pos, node.end), programs: [], unknown: [] };
      if (!within) analysis.units.push(unit);
      simpleCommand(node, text, { analysis, unit }, depth);
    }
    forEachChild(node, (child) => visit(child, text));
  };
  visit(parse(source), source);
}

/** One simple command of a parsed script: its words, without assignments and redirections. */
function simpleCommand(node: Command, source: string, sink: Sink, depth: number): void {
  if (!node.name) return; // assignments and redirections only: their substitutions are visited anyway
  const args: Arg[] = [];
  for (const item of [node.name, ...node.suffix]) {
    if (item.type === "Word") args.push({ value: staticValue(item), text: item.text });
    else if (item.type === "Assignment") {
      const value = item.value.type === "Word" ? staticValue(item.value) : undefined;
      args.push({ value: value === undefined ? undefined : `${item.name}=${value}`, text: item.text });
    }
  }
  runWords(args, source.slice(node.name.pos, node.end), sink, depth);
}

/** Splits `-abc` and `--long=value` options off the front of `args` per `spec`; returns where the operands start. */
function skipOptions(
  args: readonly Arg[],
  start: number,
  spec: WrapperSpec,
): { next: number; flags: string } {
  let i = start;
  let flags = "";
  while (i < args.length) {
    const a = args[i]?.value;
    if (a === undefined || a === "-" || !a.startsWith("-")) break;
    i++;
    if (a === "--") break;
    if (a.startsWith("--")) {
      const name = a.slice(2);
      if (!name.includes("=") && spec.longValue?.includes(name)) i++;
      continue;
    }
    for (let k = 1; k < a.length; k++) {
      const letter = a[k] as string;
      flags += letter;
      if (spec.shortValue?.includes(letter)) {
        if (k === a.length - 1) i++; // the value is the next word, else the rest of this one
        break;
      }
    }
  }
  return { next: i, flags };
}

/** The shell quoting of one word, for re-reading a word list as a script (`eval`, `watch`). */
function quoteWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Static words joined into a script, or undefined when one is not static. */
function joinStatic(args: readonly Arg[], quote: boolean): string | undefined {
  const values = args.map((a) => a.value);
  if (values.some((v) => v === undefined)) return undefined;
  return (values as string[]).map((v) => (quote ? quoteWord(v) : v)).join(" ");
}

/**
 * A simple command given as words: records its program and follows what it runs. `text` is its
 * source from the program on (for the deny globs and regexes).
 */
function runWords(args: readonly Arg[], text: string, sink: Sink, depth: number): void {
  let i = 0;
  // Leading VAR=value words (after `env`, or in an argv) set the environment; they run nothing.
  const skipAssignments = () => {
    while (i < args.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(args[i]?.value ?? "")) i++;
  };
  for (let hops = 0; hops < 64; hops++) {
    skipAssignments();
    const word = args[i];
    if (!word) return;
    if (word.value === undefined) {
      noteUnknown(sink, `the program \`${word.text}\` is computed when the line runs`);
      return;
    }
    const program = path.basename(word.value);
    if (program.length === 0) return;
    noteProgram(sink, program);
    sink.analysis.simpleCommands.push(hops === 0 ? text : (joinStatic(args.slice(i), false) ?? text));
    const rest = args.slice(i + 1);

    if (shells.has(program)) return shellWords(program, rest, sink, depth);
    switch (program) {
      case "eval": {
        const script = joinStatic(rest, false);
        if (script === undefined) noteUnknown(sink, "`eval` runs a string built when the line runs");
        else analyzeScript(script, sink.analysis, sink.unit, depth + 1);
        return;
      }
      case "source":
      case ".":
        noteUnknown(
          sink,
          `\`${program}\` runs the commands of ${rest[0]?.text ?? "a file"}, which are not checked`,
        );
        return;
      case "trap": {
        // trap 'commands' SIGNAL…: the first operand is shell code run later.
        const action = rest[0]?.value === "--" ? rest[1] : rest[0];
        if (!action || action.value === "-" || /^-/.test(action.value ?? "") || rest.length < 2) return;
        if (action.value === undefined) noteUnknown(sink, "`trap` runs a string built when the line runs");
        else analyzeScript(action.value, sink.analysis, sink.unit, depth + 1);
        return;
      }
      case "alias":
        // An alias body is shell code (dash expands aliases in scripts).
        for (const a of rest) {
          const body = a.value?.replace(/^[^=]*=/, "");
          if (a.value === undefined) noteUnknown(sink, "`alias` defines a command built when the line runs");
          else if (a.value.includes("=") && body) analyzeScript(body, sink.analysis, sink.unit, depth + 1);
        }
        return;
      case "watch": {
        const { next, flags } = skipOptions(rest, 0, {
          shortValue: "ndq",
          longValue: ["interval", "equexit"],
        });
        const words = rest.slice(next);
        if (words.length === 0) return;
        // Without -x watch hands its words, joined, to `sh -c`.
        if (flags.includes("x")) return runWords(words, text, sink, depth);
        const script = joinStatic(words, false);
        if (script === undefined) noteUnknown(sink, "`watch` runs a string built when the line runs");
        else analyzeScript(script, sink.analysis, sink.unit, depth + 1);
        return;
      }
      case "su":
      case "runuser":
        if (program === "runuser" && rest.some((a) => a.value === "-u" || a.value?.startsWith("--user")))
          break;
        return commandOption(program, rest, ["-c", "--command", "--session-command"], sink, depth, true);
      case "find":
        return findExec(rest, sink, depth);
    }
    const spec = WRAPPERS[program];
    if (!spec) return;
    if (program === "env") {
      // env -S 'a b' splits a string into words.
      const split = envSplitString(rest);
      if (split !== undefined) {
        if (split.script === undefined)
          noteUnknown(sink, "`env -S` splits a string built when the line runs");
        else analyzeScript(split.script, sink.analysis, sink.unit, depth + 1);
        return;
      }
    }
    const { next, flags } = skipOptions(rest, 0, spec);
    if (spec.noCommand && [...flags].some((f) => spec.noCommand?.includes(f))) return;
    const at = next + (spec.operands ?? 0);
    if (program === "flock") {
      // flock FILE -c 'commands' runs a shell; flock FD runs nothing.
      const after = rest.slice(at);
      if (after[0]?.value === "-c" || after[0]?.value === "--command") {
        return commandOption(program, after, ["-c", "--command"], sink, depth, false);
      }
    }
    if (program === "xargs") {
      const replace = xargsReplace(rest.slice(0, next));
      if (at >= rest.length) {
        noteProgram(sink, "echo"); // xargs with no command runs echo
        return;
      }
      if (replace !== undefined && rest[at]?.value?.includes(replace)) {
        noteUnknown(sink, "`xargs` builds the program name from its input");
        return;
      }
    }
    if (at >= rest.length) {
      if (spec.bareRunsShell)
        noteUnknown(sink, `\`${program}\` without a command runs a shell reading stdin`);
      return;
    }
    i += 1 + at;
  }
  noteUnknown(sink, "too many wrappers in one command");
}

/** `sh -c 'script'` is parsed; `sh file`, `sh -s` and a bare `sh` run what cannot be checked. */
function shellWords(program: string, rest: readonly Arg[], sink: Sink, depth: number): void {
  const { next, flags } = skipOptions(rest, 0, {
    shortValue: "oO",
    longValue: ["rcfile", "init-file"],
  });
  // bash's +o/+O options take a value too.
  let i = next;
  while (i < rest.length && /^\+[oO]$/.test(rest[i]?.value ?? "")) i += 2;
  if (flags.includes("c")) {
    const script = rest[i];
    if (!script) return;
    if (script.value === undefined)
      noteUnknown(sink, `\`${program} -c\` runs a string built when the line runs`);
    else analyzeScript(script.value, sink.analysis, sink.unit, depth + 1);
    return;
  }
  const file = rest[i];
  noteUnknown(
    sink,
    file && !flags.includes("s")
      ? `\`${program}\` runs the script ${file.text}, whose commands are not checked`
      : `\`${program}\` runs commands read from its input, which are not checked`,
  );
}

/** `su -c 'script'`, `flock FILE -c 'script'`: the option's value is a shell script. */
function commandOption(
  program: string,
  rest: readonly Arg[],
  names: readonly string[],
  sink: Sink,
  depth: number,
  bareRunsShell: boolean,
): void {
  for (let k = 0; k < rest.length; k++) {
    const a = rest[k]?.value;
    if (a === undefined) continue;
    const eq = names.find((n) => n.startsWith("--") && a.startsWith(`${n}=`));
    const script =
      eq !== undefined
        ? { value: a.slice(eq.length + 1), text: a }
        : names.includes(a)
          ? rest[k + 1]
          : undefined;
    if (eq === undefined && !names.includes(a)) continue;
    if (!script) return;
    if (script.value === undefined)
      noteUnknown(sink, `\`${program} ${names[0]}\` runs a string built when the line runs`);
    else analyzeScript(script.value, sink.analysis, sink.unit, depth + 1);
    return;
  }
  if (bareRunsShell) noteUnknown(sink, `\`${program}\` without -c runs a shell reading stdin`);
}

/** `find … -exec cmd {} ;` (and -execdir, -ok, -okdir) runs cmd. */
function findExec(rest: readonly Arg[], sink: Sink, depth: number): void {
  for (let k = 0; k < rest.length; k++) {
    if (!["-exec", "-execdir", "-ok", "-okdir"].includes(rest[k]?.value ?? "")) continue;
    let end = k + 1;
    while (end < rest.length && rest[end]?.value !== ";" && rest[end]?.value !== "+") end++;
    const words = rest.slice(k + 1, end);
    runWords(words, joinStatic(words, false) ?? "", sink, depth);
    k = end;
  }
}

/** `env -S STRING` / `--split-string=STRING`: the string, split, is the rest of the command. */
function envSplitString(rest: readonly Arg[]): { script: string | undefined } | undefined {
  for (let k = 0; k < rest.length; k++) {
    const a = rest[k]?.value;
    if (a === undefined || !a.startsWith("-") || a === "--") return undefined;
    if (a === "-S" || a === "--split-string") {
      const tail = joinStatic(rest.slice(k + 2), true);
      const head = rest[k + 1]?.value;
      return { script: head === undefined || tail === undefined ? undefined : `${head} ${tail}` };
    }
    if (a.startsWith("--split-string=")) {
      const tail = joinStatic(rest.slice(k + 1), true);
      return { script: tail === undefined ? undefined : `${a.slice(15)} ${tail}` };
    }
    if (/^-[^-]*S./.test(a)) {
      const tail = joinStatic(rest.slice(k + 1), true);
      return { script: tail === undefined ? undefined : `${a.slice(a.indexOf("S") + 1)} ${tail}` };
    }
  }
  return undefined;
}

/** The replacement string of `xargs -I R` / `-i[R]` / `--replace[=R]`, if any. */
function xargsReplace(options: readonly Arg[]): string | undefined {
  for (let k = 0; k < options.length; k++) {
    const a = options[k]?.value ?? "";
    if (a === "-I") return options[k + 1]?.value;
    if (a.startsWith("-I")) return a.slice(2);
    if (a === "-i" || a === "--replace") return "{}";
    if (a.startsWith("-i")) return a.slice(2);
    if (a.startsWith("--replace=")) return a.slice(10);
  }
  return undefined;
}

/** Program names a command runs (for tests and messages): see `analyzeCommand`. */
export function programNames(command: string | readonly string[]): string[] {
  return analyzeCommand(command).programs;
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
  /** The keys of the deny rules set, for the message when they cannot be checked. */
  denyKeys: string[];
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
    denyKeys: (["deny_list", "deny_glob", "deny_regex"] as const)
      .filter((k) => rules[k].length > 0)
      .map((k) => `commands.${k}`),
  };
  compiled.set(rules, c);
  return c;
}

/** Decides whether `command` (the tool's command argument) may run under `rules`. */
export function evaluateCommand(rules: CommandRules, command: string | readonly string[]): CommandDecision {
  const c = compile(rules);
  if (!c.hasAllowRules && c.denyKeys.length === 0) return { verdict: "allow" };
  const line = commandLine(command);
  const { units, programs, simpleCommands, unknown } = analyzeCommand(command);
  const denied = (rule: string, reason: string): CommandDecision => ({ verdict: "deny", rule, reason });
  const texts = [line, ...simpleCommands];

  for (const program of programs) {
    if (c.denyList.has(program)) return denied(`commands.deny_list = "${program}"`, `it runs \`${program}\``);
  }
  for (const g of c.denyGlob) {
    if (texts.some((t) => g.match(t)))
      return denied(`commands.deny_glob = "${g.source}"`, "the command line matches the glob");
  }
  for (const r of c.denyRegex) {
    if (texts.some((t) => r.re.test(t)))
      return denied(`commands.deny_regex = "${r.source}"`, "the command line matches the regex");
  }
  if (unknown.length > 0 && c.denyKeys.length > 0) {
    // Fail closed: what runs cannot be checked against the deny rules, so a human decides.
    return {
      verdict: "prompt",
      rule: c.denyKeys.join(", "),
      reason: `[commands] deny rules cannot check this command: ${unknown[0]}`,
    };
  }
  if (!c.hasAllowRules) return { verdict: "allow" };

  // With allow rules, every simple command must be allowed: by a glob or regex over its text,
  // or by every program it runs being listed. (One glob over the whole line would let
  // `cargo test*` allow `cargo test; curl … | sh`.)
  let last: string | undefined;
  for (const unit of units) {
    const glob = c.allowGlob.find((g) => g.match(unit.text));
    const regex = glob ? undefined : c.allowRegex.find((r) => r.re.test(unit.text));
    if (glob) last = `commands.allow_glob = "${glob.source}"`;
    else if (regex) last = `commands.allow_regex = "${regex.source}"`;
    else {
      const only = `(with allow rules set, every command in the line must match one)`;
      const rule = "commands.allow_list/allow_glob/allow_regex";
      if (unit.unknown.length > 0)
        return denied(rule, `${unit.unknown[0]}, so it matches no allow rule ${only}`);
      const unlisted = unit.programs.find((p) => !c.allowList.has(p));
      if (unlisted !== undefined || unit.programs.length === 0) {
        return denied(rule, `\`${unlisted ?? unit.text}\` matches no allow rule ${only}`);
      }
      last = "commands.allow_list";
    }
  }
  return last === undefined ? { verdict: "allow" } : { verdict: "allow", rule: last };
}
