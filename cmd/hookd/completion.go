package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/alecthomas/kong"
)

// completionCmd is `hookd completion bash|zsh|fish`: it prints a script
// that completes hookd's subcommands and flags, generated from the
// command model so it never lags behind the binary.
//
//	bash: source <(hookd completion bash)        (e.g. in ~/.bashrc)
//	zsh:  source <(hookd completion zsh)         (e.g. in ~/.zshrc)
//	fish: hookd completion fish > ~/.config/fish/completions/hookd.fish
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish."`
}

func (c completionCmd) Run(stdout io.Writer, model *kong.Application) error {
	nodes := commandNodes(model.Node, "")
	switch c.Shell {
	case "bash":
		return bashCompletion(stdout, nodes)
	case "zsh":
		fmt.Fprintln(stdout, "# hookd completion for zsh (uses bash completion)\nautoload -U +X bashcompinit && bashcompinit")
		return bashCompletion(stdout, nodes)
	}
	return fishCompletion(stdout, nodes)
}

// cmdNode is one command of the tree, by its path ("endpoint create").
type cmdNode struct {
	path string
	node *kong.Node
}

func commandNodes(n *kong.Node, prefix string) []cmdNode {
	out := []cmdNode{{prefix, n}}
	for _, c := range n.Children {
		if c.Hidden {
			continue
		}
		out = append(out, commandNodes(c, strings.TrimSpace(prefix+" "+c.Name))...)
	}
	return out
}

// words are the completions after the command at path: its subcommands
// and its flags (--name, and -x for short ones).
func words(n *kong.Node) []string {
	var w []string
	for _, c := range n.Children {
		if !c.Hidden {
			w = append(w, c.Name)
		}
	}
	for _, f := range n.AllFlags(true) {
		for _, fl := range f {
			w = append(w, "--"+fl.Name)
			if fl.Short != 0 {
				w = append(w, "-"+string(fl.Short))
			}
		}
	}
	return w
}

func bashCompletion(w io.Writer, nodes []cmdNode) error {
	var b strings.Builder
	b.WriteString("# hookd completion for bash: source <(hookd completion bash)\n_hookd() {\n")
	b.WriteString("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" path=\"\" word opts\n")
	b.WriteString("  for word in \"${COMP_WORDS[@]:1:COMP_CWORD-1}\"; do\n    case \"${path:+$path }$word\" in\n")
	var paths []string
	for _, n := range nodes[1:] {
		paths = append(paths, quoteSh(n.path))
	}
	fmt.Fprintf(&b, "      %s) path=\"${path:+$path }$word\" ;;\n    esac\n  done\n  case \"$path\" in\n", strings.Join(paths, "|"))
	for _, n := range nodes {
		fmt.Fprintf(&b, "    %s) opts=%s ;;\n", quoteSh(n.path), quoteSh(strings.Join(words(n.node), " ")))
	}
	b.WriteString("  esac\n  COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n}\ncomplete -o default -F _hookd hookd\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func fishCompletion(w io.Writer, nodes []cmdNode) error {
	var b strings.Builder
	b.WriteString("# hookd completion for fish: hookd completion fish > ~/.config/fish/completions/hookd.fish\nset -g __hookd_cmds")
	for _, n := range nodes[1:] {
		b.WriteString(" " + quoteSh(n.path))
	}
	b.WriteString("\nfunction __hookd_at\n  set -l p ''\n  for w in (commandline -opc)[2..-1]\n")
	b.WriteString("    set -l q (string trim -- \"$p $w\")\n    if contains -- $q $__hookd_cmds\n      set p $q\n    end\n  end\n  test \"$p\" = \"$argv[1]\"\nend\n")
	for _, n := range nodes {
		cond := quoteSh("__hookd_at " + quoteSh(n.path))
		for _, c := range n.node.Children {
			if !c.Hidden {
				fmt.Fprintf(&b, "complete -c hookd -f -n %s -a %s -d %s\n", cond, c.Name, quoteSh(firstLine(c.Help)))
			}
		}
		for _, f := range n.node.Flags {
			short := ""
			if f.Short != 0 {
				short = " -s " + string(f.Short)
			}
			fmt.Fprintf(&b, "complete -c hookd -n %s -l %s%s -d %s\n", cond, f.Name, short, quoteSh(firstLine(f.Help)))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, ". ")
	return strings.TrimSuffix(s, ".")
}

// quoteSh quotes s for sh, bash and fish (single quotes).
func quoteSh(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
