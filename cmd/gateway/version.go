package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/gateway
//
// (a link-time variable is the one package-level variable: -X can set
// nothing else).
var version = "dev"

// versionString is the version and the VCS commit Go stamped into the
// binary (vcs.revision, "+modified" when the tree had uncommitted changes;
// "unknown" when built without VCS information, as by go test or
// -buildvcs=false).
func versionString() string {
	return formatVersion(version, debug.ReadBuildInfo)
}

func formatVersion(v string, info func() (*debug.BuildInfo, bool)) string {
	commit, modified, when := "unknown", false, ""
	if bi, ok := info(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			case "vcs.time":
				when = s.Value
			}
		}
	}
	if modified {
		commit += "+modified"
	}
	if when != "" {
		commit += ", " + when
	}
	return fmt.Sprintf("%s (commit %s)", v, commit)
}

// versionCmd is `gateway version` (the same as `gateway --version`).
func versionCmd(env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and the VCS commit it was built from",
		Args:  noArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), "gateway", versionString())
			return nil
		},
	}
}
