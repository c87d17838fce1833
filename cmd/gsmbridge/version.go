package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"
)

// buildVersion is what the Go toolchain stamped into this binary: enough to
// tell which code a field machine runs.
type buildVersion struct {
	// Version is the module's version: a tag for `go install ...@v1.2.0`, a
	// pseudo-version from the repository's tags, or "(devel)".
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	// Modified: built from a checkout with uncommitted changes, so Commit
	// alone does not say what runs.
	Modified  bool   `json:"modified"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform,omitempty"`
}

// readVersion reads bi, the answer of debug.ReadBuildInfo; without build
// information (ok false) every field says unknown rather than guessing.
func readVersion(bi *debug.BuildInfo, ok bool) buildVersion {
	if !ok || bi == nil {
		return buildVersion{Version: "unknown", GoVersion: "unknown"}
	}
	v := buildVersion{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if v.Version == "" {
		v.Version = "(devel)"
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.CommitTime = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		}
	}
	if goos != "" && goarch != "" {
		v.Platform = goos + "/" + goarch
	}
	return v
}

// String is the one line `gsmbridge version` prints.
func (v buildVersion) String() string {
	s := "gsmbridge " + v.Version
	if v.Commit != "" {
		s += ", commit " + v.Commit
		switch {
		case v.CommitTime != "" && v.Modified:
			s += " (" + v.CommitTime + ", modified)"
		case v.CommitTime != "":
			s += " (" + v.CommitTime + ")"
		case v.Modified:
			s += " (modified)"
		}
	}
	s += ", " + v.GoVersion
	if v.Platform != "" {
		s += " " + v.Platform
	}
	return s
}

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("version", stdout, help{
		synopsis: "[--json]",
		about: "Prints the module version, the commit and its time (and whether the tree had\n" +
			"uncommitted changes), the Go version and the platform this binary was built\n" +
			"from, as Go stamped them into it. `gsmbridge --version` is the same.",
		examples: []string{"gsmbridge version", "gsmbridge version --json"},
	})
	asJSON := fs.Bool("json", false, "print JSON instead of a line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v := readVersion(debug.ReadBuildInfo())
	if *asJSON {
		return writeJSONLine(stdout, v)
	}
	_, err := fmt.Fprintln(stdout, v)
	return err
}
