/**
 * `toold completion bash|zsh`: a completion script for commands, each command's own options, and
 * tool names after `call` and `tools` (asked of a running daemon; tab never starts one).
 */
import {
  EXIT,
  GLOBAL_OPTIONS,
  UsageError,
  type Command,
  type CommandEntry,
  type OptionSpec,
} from "../command.js";
import { didYouMean } from "../suggest.js";

/** What a command's first argument can be: tool names, or a fixed list. */
function firstArgument(commands: readonly CommandEntry[]): Record<string, "tools" | string[]> {
  return {
    call: "tools",
    tools: "tools",
    help: commands.map((c) => c.name),
    config: ["get", "reload", "check"],
    completion: ["bash", "zsh"],
  };
}

function flags(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/** Only [A-Za-z0-9_-] and spaces reach the scripts; descriptions are escaped for zsh's _describe. */
const safe = (s: string) => s.replace(/[^\w\- ]/g, (c) => (c === ":" ? "\\:" : c === "'" ? "" : c));

async function bashScript(commands: readonly CommandEntry[]): Promise<string> {
  const loaded = await Promise.all(commands.map(async (c) => ({ name: c.name, cmd: await c.load() })));
  const optionCases = loaded
    .map(
      ({ name, cmd }) => `    ${name}) opts="${flags({ ...cmd.options, ...GLOBAL_OPTIONS }).join(" ")}" ;;`,
    )
    .join("\n");
  const argCases = Object.entries(firstArgument(commands))
    .map(([name, what]) =>
      what === "tools"
        ? `    ${name}) words=$(toold tools --names --no-start 2>/dev/null) ;;`
        : `    ${name}) words="${what.join(" ")}" ;;`,
    )
    .join("\n");
  return `# toold completion for bash. Load it with:  eval "$(toold completion bash)"
# or save it:  toold completion bash > ~/.local/share/bash-completion/completions/toold
_toold() {
  local cur prev cmd="" i argpos=0 opts words
  cur=\${COMP_WORDS[COMP_CWORD]}
  prev=\${COMP_WORDS[COMP_CWORD-1]}
  for ((i = 1; i < COMP_CWORD; i++)); do
    case \${COMP_WORDS[i]} in
      --workspace|--socket|-n|--lines|--interval|--count) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=\${COMP_WORDS[i]}; else ((argpos++)); fi ;;
    esac
  done
  case $prev in
    --workspace) COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
  esac
  if [[ -z $cmd ]]; then
    if [[ $cur == -* ]]; then
      COMPREPLY=($(compgen -W "${flags(GLOBAL_OPTIONS).join(" ")} --version" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${commands.map((c) => c.name).join(" ")}" -- "$cur"))
    fi
    return
  fi
  if [[ $cur == -* ]]; then
    case $cmd in
${optionCases}
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  [[ $argpos -eq 0 ]] || return
  case $cmd in
${argCases}
    *) return ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _toold toold
`;
}

async function zshScript(commands: readonly CommandEntry[]): Promise<string> {
  const loaded = await Promise.all(commands.map(async (c) => ({ name: c.name, cmd: await c.load() })));
  const described = commands.map((c) => `    '${c.name}:${safe(c.summary)}'`).join("\n");
  const optionCases = loaded
    .map(
      ({ name, cmd }) =>
        `    ${name}) compadd -- ${flags({ ...cmd.options, ...GLOBAL_OPTIONS }).join(" ")} ;;`,
    )
    .join("\n");
  const argCases = Object.entries(firstArgument(commands))
    .map(([name, what]) =>
      what === "tools"
        ? `    ${name}) compadd -- \${(f)"$(toold tools --names --no-start 2>/dev/null)"} ;;`
        : name === "help"
          ? `    ${name}) _describe 'command' commands ;;`
          : `    ${name}) compadd -- ${what.join(" ")} ;;`,
    )
    .join("\n");
  return `#compdef toold
# toold completion for zsh. Load it with:  eval "$(toold completion zsh)"  (after compinit)
# or save it as _toold in a folder of your $fpath.
_toold() {
  local -a commands
  commands=(
${described}
  )
  local cmd="" i argpos=0
  for ((i = 2; i < CURRENT; i++)); do
    case $words[i] in
      --workspace|--socket|-n|--lines|--interval|--count) ((i++)) ;;
      -*) ;;
      *) if [[ -z $cmd ]]; then cmd=$words[i]; else ((argpos++)); fi ;;
    esac
  done
  case $words[CURRENT-1] in
    --workspace) _files -/; return ;;
    --socket) _files; return ;;
  esac
  if [[ -z $cmd ]]; then
    if [[ $PREFIX == -* ]]; then compadd -- ${flags(GLOBAL_OPTIONS).join(" ")} --version
    else _describe 'command' commands; fi
    return
  fi
  if [[ $PREFIX == -* ]]; then
    case $cmd in
${optionCases}
    esac
    return
  fi
  (( argpos == 0 )) || return
  case $cmd in
${argCases}
  esac
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then _toold "$@"; else compdef _toold toold; fi
`;
}

const SHELLS = ["bash", "zsh"];

export const completion: Command = {
  name: "completion",
  usage: "completion bash|zsh",
  summary: "print a shell completion script for bash or zsh",
  details: "Completes commands, each command's options, and tool names (from a running daemon).",
  options: {},
  examples: [
    `eval "$(toold completion bash)"   # in ~/.bashrc`,
    `eval "$(toold completion zsh)"    # in ~/.zshrc, after compinit`,
  ],
  async run({ args, commands }) {
    const [shell] = args;
    if (shell === "bash") process.stdout.write(await bashScript(commands));
    else if (shell === "zsh") process.stdout.write(await zshScript(commands));
    else
      throw new UsageError(
        shell === undefined
          ? "completion needs a shell: toold completion bash (or zsh)"
          : `no completion for "${shell}"${didYouMean(shell, SHELLS)}; the shells are bash and zsh`,
      );
    return EXIT.ok;
  },
};
