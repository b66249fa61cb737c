package cmdline

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// ManSection is extra text of the manual page: a heading and its
// paragraphs, in the same plain form as Command.Help.
type ManSection struct {
	Title string
	Text  string
}

// Man holds what the manual page adds to the command tree.
type Man struct {
	Date     string // "2026-12-03": the date of the definitions, not of the build
	Source   string // "medagent 1.4.0"
	Sections []ManSection
}

// WriteMan writes the manual page of the tree under root (roff, man(7)).
// The page says what the help says, from the same definitions.
func WriteMan(w io.Writer, root *Command, m Man) error {
	b := bufio.NewWriter(w)
	up := strings.ToUpper(root.Name)
	fmt.Fprintf(b, ".TH %s 1 %q %q \"User Commands\"\n", up, m.Date, m.Source)
	fmt.Fprintf(b, ".SH NAME\n%s \\- %s\n", root.Name, roff(root.Summary))
	b.WriteString(".SH SYNOPSIS\n")
	Walk(root, func(path []*Command) {
		if c := path[len(path)-1]; c.Flags != nil {
			fmt.Fprintf(b, ".B %s\n.br\n", roff(Synopsis(path)))
		}
	})
	b.WriteString(".SH DESCRIPTION\n")
	writeParas(b, root.Help)
	b.WriteString(".SH COMMANDS\n")
	Walk(root, func(path []*Command) {
		c := path[len(path)-1]
		if len(path) == 1 || c.Flags == nil {
			return
		}
		fmt.Fprintf(b, ".SS %s\n", roff(Synopsis(path)))
		writeParas(b, capitalize(c.Summary)+".")
		writeParas(b, c.Help)
		for _, f := range Flags(path) {
			fmt.Fprintf(b, ".TP\n.B %s\n%s (default: %s)\n", roff(f.Names), roff(f.Usage), roff(f.Default))
		}
		if len(c.Examples) > 0 {
			b.WriteString(".PP\nExamples:\n.PP\n.nf\n.RS 4\n")
			for _, e := range c.Examples {
				fmt.Fprintf(b, "%s\n", roff(e))
			}
			b.WriteString(".RE\n.fi\n")
		}
	})
	for _, s := range m.Sections {
		fmt.Fprintf(b, ".SH %s\n", roff(strings.ToUpper(s.Title)))
		writeParas(b, s.Text)
	}
	return b.Flush()
}

// writeParas writes help paragraphs: indented ones verbatim (no fill).
func writeParas(b *bufio.Writer, text string) {
	for _, p := range strings.Split(strings.TrimSpace(text), "\n\n") {
		p = strings.Trim(p, "\n")
		switch {
		case p == "":
		case strings.HasPrefix(p, " "):
			b.WriteString(".PP\n.nf\n")
			for _, l := range strings.Split(p, "\n") {
				b.WriteString(roff(l) + "\n")
			}
			b.WriteString(".fi\n")
		default:
			b.WriteString(".PP\n" + roff(strings.Join(strings.Fields(p), " ")) + "\n")
		}
	}
}

// roff escapes text for a roff line: backslashes, and a leading dot or
// quote that would start a request.
func roff(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
