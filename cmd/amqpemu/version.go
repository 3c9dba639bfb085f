package main

import (
	"runtime/debug"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…"; when it
// is not, versionString reads the module version Go recorded.
var version = ""

// versionString is the version and, when Go recorded it, the VCS revision
// (with "+dirty" for a build from a modified tree) and its time.
func versionString() string {
	v := version
	info, ok := debug.ReadBuildInfo()
	if v == "" {
		v = "(devel)"
		if ok && info.Main.Version != "" {
			v = info.Main.Version
		}
	}
	if !ok {
		return v
	}
	var rev, at string
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	parts := []string{v, "revision " + rev[:min(12, len(rev))]}
	if dirty {
		parts[1] += "+dirty"
	}
	if at != "" {
		parts = append(parts, at)
	}
	return strings.Join(parts, " ")
}
