// Command binsize prints the biggest contributors to a Go binary: the
// sizes of its code and data symbols, summed by module (or, for the
// standard library, by top-level package), largest first. The binary
// must keep its symbol table (built without -ldflags=-s); the share of
// the file that symbols do not account for (the pclntab, which grows
// with the code, and other tables) is printed apart.
//
//	go run ./devtools/binsize -n 10 bin/medagent-arm64.syms
package main

import (
	"cmp"
	"debug/elf"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

func main() {
	n := flag.Int("n", 10, "how many contributors to print")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: binsize [-n N] BINARY (with its symbol table)")
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *n); err != nil {
		fmt.Fprintln(os.Stderr, "binsize:", err)
		os.Exit(1)
	}
}

func run(path string, n int) error {
	f, err := elf.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	syms, err := f.Symbols()
	if err != nil {
		return fmt.Errorf("%s: %w (build without -ldflags=-s)", path, err)
	}
	by := map[string]uint64{}
	var total uint64
	for _, s := range syms {
		if int(s.Section) <= 0 || int(s.Section) >= len(f.Sections) {
			continue
		}
		sec := f.Sections[s.Section]
		if sec.Type == elf.SHT_NOBITS || sec.Flags&elf.SHF_ALLOC == 0 { // .bss, .noptrbss: not in the file
			continue
		}
		by[owner(s.Name)] += s.Size
		total += s.Size
	}
	type row struct {
		name string
		size uint64
	}
	var rows []row
	for k, v := range by {
		rows = append(rows, row{k, v})
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(b.size, a.size) })
	// What stays in a stripped binary: the loaded sections with bytes.
	var file uint64
	for _, sec := range f.Sections {
		if sec.Type != elf.SHT_NOBITS && sec.Flags&elf.SHF_ALLOC != 0 {
			file += sec.Size
		}
	}
	fmt.Printf("%-40s %9s %6s\n", "contributor (code and data symbols)", "KiB", "%stripped")
	for _, r := range rows[:min(n, len(rows))] {
		fmt.Printf("%-40s %9.0f %5.1f%%\n", r.name, float64(r.size)/1024, 100*float64(r.size)/float64(file))
	}
	fmt.Printf("%-40s %9.0f %5.1f%%\n", "all symbols", float64(total)/1024, 100*float64(total)/float64(file))
	fmt.Printf("%-40s %9.0f %5.1f%%\n", "tables (pclntab, ...), strings, other", float64(file-total)/1024, 100*float64(file-total)/float64(file))
	fmt.Printf("%-40s %9.0f\n", "stripped size (loaded sections)", float64(file)/1024)
	return nil
}

// owner names what a symbol belongs to: its module for third-party and
// medagent packages (medagent by its first-level package), else the
// standard library's top-level package; the runtime's generated symbols
// are grouped apart.
func owner(sym string) string {
	if strings.HasPrefix(sym, "go:func.") {
		return "(func metadata)"
	}
	for _, p := range []string{"go:itab.*", "go:itab.", "type:*", "type:", "go:"} {
		if strings.HasPrefix(sym, p) {
			sym = strings.TrimPrefix(sym, p)
			break
		}
	}
	pkg := sym
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		if j := strings.Index(pkg[i:], "."); j >= 0 {
			pkg = pkg[:i+j]
		}
	} else if j := strings.Index(pkg, "."); j >= 0 {
		pkg = pkg[:j]
	}
	pkg = strings.ReplaceAll(pkg, "%2e", ".")
	parts := strings.Split(pkg, "/")
	switch {
	case parts[0] == "medagent" && len(parts) > 1:
		return "medagent/" + parts[1]
	case strings.Contains(parts[0], ".") && len(parts) >= 3:
		return strings.Join(parts[:3], "/")
	case strings.Contains(parts[0], ".") && len(parts) == 2:
		return strings.Join(parts, "/")
	case pkg == "":
		return "(unnamed)"
	}
	return "std " + parts[0]
}
