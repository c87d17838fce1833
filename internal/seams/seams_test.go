package seams

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/gsmbridge/gsmbridge"

// The package classes of docs/restructure-plan.md §1.2, as paths relative to
// the module. A class member owns its subpackages too.
var (
	features = []string{
		"internal/modem", "internal/sending", "internal/receiving", "internal/ussdsvc",
		"internal/confirm", "internal/events", "internal/retention", "internal/health", "internal/fleet",
	}
	infrastructure = []string{
		"internal/config", "internal/store", "internal/payment", "internal/operators",
		"internal/eventlog", "internal/httpapi", "internal/work", "internal/scrape",
	}
	public = []string{"atcmd", "sms", "ussd", "gsm", "hw", "modemsim", "api", "client"}
	// composers may import features: the composition root.
	composers = []string{"internal/service"}
	// testSupport may be imported by the tests of any package: tools for
	// tests, with nothing of the service in them.
	// internal/fleet/fleettest is the embedded JetStream cluster: the CLI's
	// fleet tests start one as they start simulated modems.
	testSupport = []string{"internal/testtool", "internal/testreport", "internal/fleet/fleettest"}
)

// dialogueOwners may write AT dialogue: the modem layers, the simulator and
// the benchmark, which watches the wire.
var (
	dialogueOwners = []string{"gsm", "atcmd", "ussd", "modemsim", "internal/bench"}
	// dialogueFiles are single files with the same right: the benchmark
	// while it still lives in the CLI.
	dialogueFiles = regexp.MustCompile(`^cmd/gsmbridge/bench[^/]*\.go$`)
)

// directFiles are the CLI's direct mode, which talks to a modem with no
// daemon (plan §1.1): they reach the modem through gsm and hw, and import
// no atcmd and nothing internal.
var directFiles = []string{"cmd/gsmbridge/direct.go", "cmd/gsmbridge/scan.go"}

// tableMethods are methods that do not count towards a type's methods:
// the simulator's command table (modemsim/commands.go, `handlers`), one
// cmdXxx method of *Modem per AT command by design.
var tableMethods = map[string]*regexp.Regexp{"modemsim.Modem": regexp.MustCompile(`^cmd[A-Z]`)}

const (
	maxMethods = 25
	maxLines   = 400
)

// atDialogue matches a string that is an AT line or a modem's answer line:
// "AT", "ATE0", "ATZ", "ATD*100#;", "AT+CMGS=", "AT^CURC=0", "+CMTI:",
// "+CME ERROR". Prose that merely names a command ("AT commands run on a
// modem", "AT port of a modem", "+CUSD dialect") does not match: after
// the command name comes a space and a word, not a separator.
var atDialogue = regexp.MustCompile(`^(?:AT(?:$|[+^&$#%*!][A-Z]|[A-Z]\d*(?:$|[;=?\r\n])|D[*#+0-9])|\+C[A-Z]{2,}(?:$|[:=?;\r\n]| ERROR))`)

type violation struct {
	key string // the ratchet line: stable while the violation lasts
	why string // what is wrong, with the numbers of today
}

func under(rel string, roots []string) string {
	for _, r := range roots {
		if rel == r || strings.HasPrefix(rel, r+"/") {
			return r
		}
	}
	return ""
}

func relOf(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// root is the module's directory: the test runs in internal/seams.
func root(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", dir, err)
	}
	return dir
}

type pkg struct {
	rel                  string
	imports, testImports []string
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	const tmpl = `{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}`
	cmd := exec.Command("go", "list", "-f", tmpl, module+"/...")
	cmd.Dir = root(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []pkg
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "|")
		if len(f) != 3 {
			t.Fatalf("go list line %q: want 3 fields", line)
		}
		rel, ok := relOf(f[0])
		if !ok {
			t.Fatalf("go list named %s, outside %s", f[0], module)
		}
		pkgs = append(pkgs, pkg{rel: rel, imports: strings.Fields(f[1]), testImports: strings.Fields(f[2])})
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found %d packages: too few to be real", len(pkgs))
	}
	return pkgs
}

// importRule returns why from may not import path (empty when it may).
// test says the import is made by from's tests only.
func importRule(from, path string, test bool) string {
	if strings.HasPrefix(path, "github.com/nats-io/") {
		if !test && under(from, []string{"internal/fleet"}) == "" {
			return "only internal/fleet imports NATS"
		}
		return ""
	}
	to, ours := relOf(path)
	if !ours || to == from {
		return ""
	}
	if test && under(to, testSupport) != "" {
		return ""
	}
	fromFeature, toFeature := under(from, features), under(to, features)
	internal := to == "internal" || strings.HasPrefix(to, "internal/")
	switch {
	case toFeature != "" && fromFeature != "" && toFeature != fromFeature:
		return "features never import each other"
	case toFeature != "" && under(from, infrastructure) != "":
		return "infrastructure never imports a feature"
	case internal && under(from, public) != "":
		return "public packages never import internal/..."
	case toFeature != "" && fromFeature == "" && under(from, composers) == "":
		return "only internal/service imports features"
	case internal && under(from, []string{"internal/bench"}) != "" && under(to, []string{"internal/bench"}) == "":
		return "internal/bench drives the binary through public packages only"
	case !test && to == "atcmd" && under(from, []string{"gsm", "atcmd"}) == "":
		return "only gsm speaks to the AT engine (atcmd/... and tests aside)"
	}
	return ""
}

func importViolations(t *testing.T) []violation {
	var vs []violation
	for _, p := range listPackages(t) {
		for _, kind := range []string{"import", "test-import"} {
			list := p.imports
			if kind == "test-import" {
				list = p.testImports
			}
			seen := map[string]bool{}
			for _, path := range list {
				if seen[path] {
					continue
				}
				seen[path] = true
				if why := importRule(p.rel, path, kind == "test-import"); why != "" {
					to, _ := relOf(path)
					if to == "" {
						to = path
					}
					vs = append(vs, violation{key: kind + " " + p.rel + " -> " + to, why: why})
				}
			}
		}
	}
	return vs
}

// sourceFiles returns the module's non-test .go files, relative to root,
// whatever their build constraints.
func sourceFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != dir && (name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 50 {
		t.Fatalf("found %d source files: too few to be real", len(files))
	}
	return files
}

func receiverName(expr ast.Expr) string {
	for {
		switch e := expr.(type) {
		case *ast.StarExpr:
			expr = e.X
		case *ast.IndexExpr:
			expr = e.X
		case *ast.IndexListExpr:
			expr = e.X
		case *ast.ParenExpr:
			expr = e.X
		case *ast.Ident:
			return e.Name
		default:
			return ""
		}
	}
}

func sourceViolations(t *testing.T) []violation {
	dir := root(t)
	var vs []violation
	fset := token.NewFileSet()
	methods := map[string]map[string]bool{} // "pkgdir.Type" -> method names
	for _, rel := range sourceFiles(t, dir) {
		src, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		if ast.IsGenerated(f) {
			continue
		}
		if n := bytes.Count(src, []byte("\n")); n > maxLines {
			vs = append(vs, violation{key: "lines " + rel, why: fmt.Sprintf("%d lines, over %d: split it by job", n, maxLines)})
		}
		pkgDir := filepath.ToSlash(filepath.Dir(rel))
		if slices.Contains(directFiles, rel) {
			vs = append(vs, directImports(f, rel)...)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || len(fn.Recv.List) == 0 {
				continue
			}
			typ := pkgDir + "." + receiverName(fn.Recv.List[0].Type)
			if re := tableMethods[typ]; re != nil && re.MatchString(fn.Name.Name) {
				continue
			}
			if methods[typ] == nil {
				methods[typ] = map[string]bool{}
			}
			methods[typ][fn.Name.Name] = true
		}
		if under(pkgDir, dialogueOwners) != "" || dialogueFiles.MatchString(rel) {
			continue
		}
		seen := map[string]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !atDialogue.MatchString(s) || seen[s] {
				return true
			}
			seen[s] = true
			vs = append(vs, violation{
				key: "at " + rel + " " + strconv.Quote(s),
				why: fmt.Sprintf("AT dialogue at %s, above gsm: move it into gsm", fset.Position(lit.Pos())),
			})
			return true
		})
	}
	for typ, names := range methods {
		if len(names) > maxMethods {
			vs = append(vs, violation{key: "methods " + typ, why: fmt.Sprintf("%d methods, over %d: a room is missing", len(names), maxMethods)})
		}
	}
	return vs
}

// directImports holds a direct-mode file to public packages other than
// atcmd.
func directImports(f *ast.File, rel string) []violation {
	var vs []violation
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		to, ours := relOf(path)
		if ours && (to == "atcmd" || under(to, public) == "") {
			vs = append(vs, violation{key: "file-import " + rel + " -> " + to,
				why: "the CLI's direct mode speaks to modems through gsm and hw only"})
		}
	}
	return vs
}

const ratchetFile = "ratchet.txt"

// readRatchet returns the listed violations whose kind (first word) is in
// kinds, and fails on a line listed twice.
func readRatchet(t *testing.T, kinds ...string) map[string]bool {
	t.Helper()
	f, err := os.Open(ratchetFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, _, _ := strings.Cut(line, " ")
		if !slices.Contains(kinds, kind) {
			if !slices.Contains([]string{"import", "test-import", "file-import", "at", "methods", "lines"}, kind) {
				t.Errorf("%s:%d: unknown kind %q in %q", ratchetFile, n, kind, line)
			}
			continue
		}
		if listed[line] {
			t.Errorf("%s:%d: %q listed twice: delete one", ratchetFile, n, line)
		}
		listed[line] = true
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return listed
}

// checkRatchet holds found to the ratchet: a violation not listed fails, and
// so does a listed one that is gone, so the list only shrinks.
func checkRatchet(t *testing.T, found []violation, kinds ...string) {
	t.Helper()
	listed := readRatchet(t, kinds...)
	slices.SortFunc(found, func(a, b violation) int { return strings.Compare(a.key, b.key) })
	now := map[string]bool{}
	for _, v := range found {
		now[v.key] = true
		if !listed[v.key] {
			t.Errorf("new violation: %s (%s)\n\tfix it. Only if it moved here from a listed violation (the same code in a new place), replace that line of internal/seams/%s with:\n\t%s", v.key, v.why, ratchetFile, v.key)
		}
	}
	var gone []string
	for line := range listed {
		if !now[line] {
			gone = append(gone, line)
		}
	}
	slices.Sort(gone)
	for _, line := range gone {
		t.Errorf("no longer a violation: delete this line from internal/seams/%s:\n\t%s", ratchetFile, line)
	}
}

// TestImports holds every package to its class (plan §1.2): features never
// import each other, infrastructure and public packages never import up,
// only the composition root imports features, only gsm the AT engine, only
// fleet NATS. Tests are held to the same classes, with atcmd and NATS free
// and internal/testtool, internal/testreport open to all.
func TestImports(t *testing.T) {
	checkRatchet(t, importViolations(t), "import", "test-import")
}

// TestSources holds the code itself: the CLI's direct mode on gsm and hw,
// AT dialogue only in the layers that own it, no type over 25 methods, no
// non-test file over 400 lines.
func TestSources(t *testing.T) {
	checkRatchet(t, sourceViolations(t), "file-import", "at", "methods", "lines")
}

func TestATDialogue(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"AT", true},
		{"ATE0", true},
		{"ATZ", true},
		{"ATI", true},
		{"ATS0=0", true},
		{"ATD*100#;", true},
		{"AT+CMGS=", true},
		{"AT+CREG?", true},
		{`AT+CPMS="%s","%s","%s"`, true},
		{"AT^CURC=0", true},
		{"AT&F", true},
		{"+CMTI", true},
		{"+CMGS:", true},
		{"+CME ERROR", true},
		{"+CMS ERROR: 38", true},
		{"AT commands run on a modem, by command name", false},
		{"AT port of a modem (/dev/ttyUSB2)", false},
		{"AT PORT", false},
		{"ATTENTION", false},
		{"+CUSD dialect of the modem", false},
		{"+C", false},
		{"+49170", false},
		{"at+cmgs", false},
	} {
		if got := atDialogue.MatchString(tt.s); got != tt.want {
			t.Errorf("atDialogue(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

func TestImportRule(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		test     bool
		want     bool // allowed
	}{
		{"internal/sending", module + "/internal/confirm", false, false},
		{"internal/sending", module + "/internal/sending/sendtest", false, true},
		{"internal/store", module + "/internal/events", false, false},
		{"internal/store", module + "/internal/payment", false, true},
		{"gsm", module + "/internal/config", false, false},
		{"modemsim", module + "/internal/testtool", true, true},
		{"modemsim", module + "/internal/store", true, false},
		{"cmd/gsmbridge", module + "/internal/modem", false, false},
		{"cmd/gsmbridge", module + "/internal/service", false, true},
		{"internal/service", module + "/internal/modem", false, true},
		{"internal/servicetest", module + "/internal/service", true, true},
		{"cmd/gsmbridge", module + "/atcmd", false, false},
		{"cmd/gsmbridge", module + "/atcmd", true, true},
		{"gsm", module + "/atcmd", false, true},
		{"atcmd/atcmdtest", module + "/atcmd", false, true},
		{"modemsim", module + "/atcmd", false, false},
		{"internal/fleet", "github.com/nats-io/nats.go", false, true},
		{"internal/events", "github.com/nats-io/nats.go", false, false},
		{"internal/bench", module + "/client", false, true},
		{"internal/bench", module + "/internal/store", false, false},
	} {
		if got := importRule(tt.from, tt.to, tt.test) == ""; got != tt.want {
			t.Errorf("importRule(%s -> %s, test %v) allowed = %v, want %v", tt.from, tt.to, tt.test, got, tt.want)
		}
	}
}
