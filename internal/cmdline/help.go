package cmdline

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// width is the layout width of help text (serial consoles are 80 wide).
const width = 80

// Synopsis is the usage line of the node at the end of path, without
// "Usage:": "medagent update install [flags] FILE|-|URL".
func Synopsis(path []*Command) string {
	c := path[len(path)-1]
	s := Name(path)
	switch {
	case c.Flags == nil && c.Default != "":
		s += " [COMMAND] [flags]"
	case c.Flags == nil:
		s += " COMMAND [flags]"
	case c.Usage != "":
		s += " " + c.Usage
	case len(Flags(path)) > 0:
		s += " [flags]"
	}
	if c.Args != "" {
		s += " " + c.Args
	}
	return s
}

// Flag is one flag as help shows it.
type Flag struct {
	Names   string // "--key FILE" or "-o FILE"
	Usage   string
	Default string // "" when the flag has none worth showing
}

// Flags lists the flags of the leaf at the end of path, in definition order
// of their names (flag sorts them).
func Flags(path []*Command) []Flag {
	c := path[len(path)-1]
	if c.Flags == nil {
		return nil
	}
	fs := flag.NewFlagSet(Name(path), flag.ContinueOnError)
	c.Flags(fs)
	var out []Flag
	fs.VisitAll(func(f *flag.Flag) {
		placeholder, usage := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-"
		}
		names := dash + f.Name
		if placeholder != "" {
			names += " " + placeholder
		}
		def := f.DefValue
		switch {
		case def == "" || def == "[]":
			def = "none"
		case isBool(f) && def == "false":
			def = "off"
		case isBool(f) && def == "true":
			def = "on"
		}
		out = append(out, Flag{Names: names, Usage: usage, Default: def})
	})
	return out
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// WriteHelp writes the help of the node at the end of path.
func WriteHelp(w io.Writer, path []*Command) {
	c := path[len(path)-1]
	fmt.Fprintf(w, "%s\n\n", hang("Usage: ", Synopsis(path), width))
	summary := c.Summary
	if summary != "" {
		fmt.Fprintln(w, hang("", capitalize(summary)+".", width))
	}
	for _, p := range paragraphs(c.Help) {
		fmt.Fprintln(w)
		fmt.Fprintln(w, p)
	}
	if len(c.Subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		n := 0
		for _, s := range c.Subs {
			n = max(n, len(s.Name))
		}
		for _, s := range c.Subs {
			summary := s.Summary
			if s.Name == c.Default {
				summary += " (default)"
			}
			fmt.Fprintln(w, hang(fmt.Sprintf("  %-*s  ", n, s.Name), summary, width))
		}
	}
	if fl := Flags(path); len(fl) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, f := range fl {
			fmt.Fprintf(w, "  %s\n", f.Names)
			fmt.Fprintln(w, hang("      ", f.Usage+" (default: "+f.Default+")", width))
		}
	}
	if len(c.Examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, e := range c.Examples {
			fmt.Fprintln(w, example(e))
		}
	}
	if len(c.Subs) > 0 {
		fmt.Fprintf(w, "\nRun '%s COMMAND -h' for a command's flags and examples.\n", Name(path))
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// paragraphs splits help text at blank lines. Lines that start with a space
// (examples, tables) are kept as they are; other paragraphs are re-wrapped.
func paragraphs(text string) []string {
	var out []string
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		p = strings.Trim(p, "\n")
		if p == "" {
			continue
		}
		if strings.HasPrefix(p, " ") {
			out = append(out, p)
			continue
		}
		out = append(out, hang("", p, width))
	}
	return out
}

// hang writes text after prefix, broken at spaces so that no line is
// longer than w; continuation lines are indented as wide as prefix. A word
// longer than a line stays whole (identifiers are never cut).
func hang(prefix, text string, w int) string {
	var b strings.Builder
	line := prefix
	indent := strings.Repeat(" ", len(prefix))
	for _, word := range strings.Fields(text) {
		switch {
		case len(line) == len(prefix):
			line += word
		case len(line)+1+len(word) <= w:
			line += " " + word
		default:
			b.WriteString(line + "\n")
			line = indent + word
		}
	}
	b.WriteString(line)
	return b.String()
}

// example lays out an example command line: indented by two, and broken
// with shell line continuations when it is wider than the layout.
func example(cmd string) string {
	const lead, cont = "  ", "      "
	if len(lead)+len(cmd) <= width {
		return lead + cmd
	}
	// Keep a flag with its value on one line.
	var words []string
	for _, f := range strings.Fields(cmd) {
		if n := len(words); n > 0 && strings.HasPrefix(words[n-1], "-") && !strings.Contains(words[n-1], " ") && !strings.HasPrefix(f, "-") {
			words[n-1] += " " + f
			continue
		}
		words = append(words, f)
	}
	var b strings.Builder
	line := lead
	for _, word := range words {
		if strings.TrimSpace(line) != "" && len(line)+1+len(word)+2 > width {
			b.WriteString(line + " \\\n")
			line = cont
		}
		if strings.TrimSpace(line) != "" {
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}
