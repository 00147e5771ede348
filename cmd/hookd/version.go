package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is the module version of this binary ("v1.2.3" when built by
// `go install …@v1.2.3`), or what -ldflags "-X main.version=…" set, or
// "dev" for a build from a work tree.
var version = moduleVersion()

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// buildRevision returns the VCS revision the binary was built from (with
// "+modified" for a dirty tree) and its commit time, from the build info.
func buildRevision() (rev, at string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "+modified"
	}
	return rev, at
}

type versionCmd struct{}

// Run prints "hookd <version> (revision <rev>, <time>, <go version>)".
func (versionCmd) Run(stdout io.Writer) error {
	rev, at := buildRevision()
	goVersion := "unknown Go"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	switch {
	case rev == "":
		rev = "revision unknown (built without VCS information)"
	case at != "":
		rev = "revision " + rev + ", " + at
	default:
		rev = "revision " + rev
	}
	_, err := fmt.Fprintf(stdout, "hookd %s (%s, %s)\n", version, rev, goVersion)
	return err
}
