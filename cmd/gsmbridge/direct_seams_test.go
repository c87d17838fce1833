package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The direct mode (ussd --port, balance --port, scan) talks to a modem
// through gsm, without the service: the binary links daemon for serve
// only, so the check is per file. No file but serve.go imports daemon, and
// the direct-mode files build no AT line of their own.
// atLine is a command or answer line: "AT", "ATE0", "AT+CSQ", "+CPIN:",
// not prose such as "AT port".
var atLine = regexp.MustCompile(`^(AT([A-Z0-9+^!$%&*#]|$)|\+C[A-Z])`)

func TestDirectModeUsesGSMNotTheService(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]bool{"direct.go": true, "scan.go": true, "balance.go": true, "ussdcmd.go": true}
	seen := 0
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if name != "serve.go" && (p == "github.com/gsmbridge/gsmbridge/internal/service" || strings.HasPrefix(p, "github.com/gsmbridge/gsmbridge/internal/store")) {
				t.Errorf("%s imports %s: only serve.go may reach the service", name, p)
			}
		}
		if !direct[name] {
			continue
		}
		seen++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && atLine.MatchString(s) {
				t.Errorf("%s: %s builds or reads an AT line: that is gsm's job", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
	}
	if seen != len(direct) {
		t.Fatalf("checked %d direct-mode files, want %d: a file was renamed, update the list", seen, len(direct))
	}
}
