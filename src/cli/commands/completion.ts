// `berth completion bash|zsh`: shell completion scripts made from the command table.
import type { Command } from "../command.ts";
import { allowedOptions } from "../command.ts";
import { UsageError } from "../exit.ts";

/** Words that may follow `prefix` (a group's verbs, or top-level words), and each full command's options. */
function tree(commands: Command[]): {
  top: string[];
  sub: Map<string, string[]>;
  opts: Map<string, string[]>;
} {
  const top = new Set<string>();
  const sub = new Map<string, string[]>();
  const opts = new Map<string, string[]>();
  for (const c of commands) {
    const [first, second] = c.words as [string, string?];
    top.add(first);
    if (second) sub.set(first, [...(sub.get(first) ?? []), second]);
    opts.set(
      c.words.join(" "),
      allowedOptions(c).map((o) => `--${o}`),
    );
  }
  return { top: [...top], sub, opts };
}

function bash(commands: Command[]): string {
  const t = tree(commands);
  const subs = [...t.sub].map(([g, v]) => `    ${g}) words="${v.join(" ")}" ;;`).join("\n");
  const opts = [...t.opts].map(([c, o]) => `    "${c}") opts="${o.join(" ")}" ;;`).join("\n");
  return `# bash completion for berth: source it, or put it in /etc/bash_completion.d/berth
_berth() {
  local cur=\${COMP_WORDS[COMP_CWORD]} words="" opts="" cmd=""
  local w1=\${COMP_WORDS[1]} w2=\${COMP_WORDS[2]}
  if [[ $COMP_CWORD -eq 1 ]]; then
    words="${t.top.join(" ")} --help --version"
  else
    case "$w1" in
${subs}
    esac
    if [[ -n "$words" && $COMP_CWORD -eq 2 ]]; then :; else
      cmd="$w1"; [[ -n "$words" ]] && cmd="$w1 $w2"; words=""
      case "$cmd" in
${opts}
      esac
      words="$opts"
      [[ "$cmd" == "completion" ]] && words="bash zsh"
    fi
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}
complete -F _berth berth
`;
}

function zsh(commands: Command[]): string {
  return `#compdef berth
# zsh completion for berth: put it in a directory of $fpath as _berth
autoload -U bashcompinit && bashcompinit
${bash(commands)}`;
}

export function completionCommand(all: () => Command[]): Command {
  return {
    words: ["completion"],
    synopsis: "bash|zsh",
    summary: "Print a shell completion script (bash: source <(berth completion bash))",
    local: [],
    arity: [1, 1],
    run: async (ctx) => {
      const shell = ctx.args[0];
      if (shell === "bash") process.stdout.write(bash(all()));
      else if (shell === "zsh") process.stdout.write(zsh(all()));
      else throw new UsageError(`completion takes bash or zsh (got ${shell})`);
      return 0;
    },
  };
}
