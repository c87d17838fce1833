package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadVersionFromBuildInfo(t *testing.T) {
	// As `go version -m` prints what `go build` stamps into a binary; the Go
	// version, which ParseBuildInfo leaves out, is set below.
	const stamped = "path\tgithub.com/gsmbridge/gsmbridge/cmd/gsmbridge\n" +
		"mod\tgithub.com/gsmbridge/gsmbridge\t%s\t\n" +
		"build\t-buildmode=exe\n" +
		"build\tGOARCH=arm64\n" +
		"build\tGOOS=linux\n" +
		"%s"
	const vcs = "build\tvcs=git\n" +
		"build\tvcs.revision=0faafa339fc21cfeae38c6c901950494b57ca4b0\n" +
		"build\tvcs.time=2026-12-04T16:59:01Z\n" +
		"build\tvcs.modified=%s\n"
	tests := []struct {
		name, info string
		want       buildVersion
		wantLine   string
	}{
		{
			name: "a clean checkout",
			info: fmt.Sprintf(stamped, "v0.0.0-20261204165901-0faafa339fc2", fmt.Sprintf(vcs, "false")),
			want: buildVersion{Version: "v0.0.0-20261204165901-0faafa339fc2", Commit: "0faafa339fc21cfeae38c6c901950494b57ca4b0",
				CommitTime: "2026-12-04T16:59:01Z", GoVersion: "go1.26.8", Platform: "linux/arm64"},
			wantLine: "gsmbridge v0.0.0-20261204165901-0faafa339fc2, commit 0faafa339fc21cfeae38c6c901950494b57ca4b0 (2026-12-04T16:59:01Z), go1.26.8 linux/arm64",
		},
		{
			name: "uncommitted changes",
			info: fmt.Sprintf(stamped, "(devel)", fmt.Sprintf(vcs, "true")),
			want: buildVersion{Version: "(devel)", Commit: "0faafa339fc21cfeae38c6c901950494b57ca4b0",
				CommitTime: "2026-12-04T16:59:01Z", Modified: true, GoVersion: "go1.26.8", Platform: "linux/arm64"},
			wantLine: "gsmbridge (devel), commit 0faafa339fc21cfeae38c6c901950494b57ca4b0 (2026-12-04T16:59:01Z, modified), go1.26.8 linux/arm64",
		},
		{
			name:     "go install of a tag: no repository",
			info:     fmt.Sprintf(stamped, "v1.4.0", ""),
			want:     buildVersion{Version: "v1.4.0", GoVersion: "go1.26.8", Platform: "linux/arm64"},
			wantLine: "gsmbridge v1.4.0, go1.26.8 linux/arm64",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi, err := debug.ParseBuildInfo(tt.info)
			if err != nil {
				t.Fatal(err)
			}
			bi.GoVersion = "go1.26.8"
			got := readVersion(bi, true)
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if got.String() != tt.wantLine {
				t.Errorf("line %q\nwant %q", got.String(), tt.wantLine)
			}
		})
	}
	if got := readVersion(nil, false); got.Version != "unknown" || got.GoVersion != "unknown" {
		t.Errorf("without build info: %+v", got)
	}
}

// The binary says what Go stamped into it: the toolchain that built it, and
// the commit when the checkout lets Go read one.
func TestVersionOfTheBuiltBinary(t *testing.T) {
	bin := buildGsmbridge(t)
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatalf("version --json: %v", err)
	}
	var v buildVersion
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("version --json printed %q: %v", out, err)
	}
	if v.GoVersion != runtime.Version() || v.Platform != runtime.GOOS+"/"+runtime.GOARCH || v.Version == "" {
		t.Errorf("version --json: %+v; want %s %s/%s", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	line, err := exec.Command(bin, "--version").Output()
	if err != nil || string(line) != v.String()+"\n" {
		t.Errorf("--version: %q, %v; want %q", line, err, v.String())
	}
	head, err := exec.Command("git", "rev-parse", "--show-toplevel", "HEAD").Output()
	if err != nil {
		t.Logf("no git repository to compare the commit with: %v", err)
		return
	}
	top, commit, _ := strings.Cut(strings.TrimSpace(string(head)), "\n")
	if fi, err := os.Stat(filepath.Join(top, ".git")); err != nil || !fi.IsDir() {
		// cmd/go reads VCS information only from a .git directory.
		t.Logf("%s is a git worktree: Go stamps no commit into what it builds there", top)
		return
	}
	if v.Commit != commit {
		t.Errorf("commit %q, want HEAD %s", v.Commit, commit)
	}
}
