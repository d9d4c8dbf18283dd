package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Version is phonegate's version: the module version ("(devel)" for a build
// from a work tree) followed by the VCS revision when the build recorded one.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok || info.Main.Version == "" {
		return "(devel)"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && !strings.Contains(v, s.Value[:min(12, len(s.Value))]) {
			v += " " + s.Value[:min(12, len(s.Value))]
		}
	}
	return v
}
