package main

import (
	"bytes"
	"errors"
	"runtime/debug"
	"strings"
	"testing"
)

// TestCLI: help lists the commands and exits 0; an unknown command or flag
// fails with a message naming it; version prints the version and commit.
func TestCLI(t *testing.T) {
	subcommands := []string{"serve", "config", "apikey", "keys", "version", "help"}
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string   // "" for success
		usage   bool     // the error is a usage error (main adds "Run '... --help'")
		stdout  []string // substrings of stdout
	}{
		{name: "--help", args: []string{"--help"}, stdout: subcommands},
		{name: "-h", args: []string{"-h"}, stdout: subcommands},
		{name: "help", args: []string{"help"}, stdout: subcommands},
		{name: "help serve", args: []string{"help", "serve"}, stdout: []string{"gateway serve [flags]", "--demo", "--rate-limit-window duration", "--rate-limit-burst int"}},
		{name: "help keys", args: []string{"help", "keys"}, stdout: []string{"generate", "reencrypt"}},
		{name: "help config print", args: []string{"help", "config", "print"}, stdout: []string{"gateway config print [flags]", "--config string"}},
		{name: "serve --help", args: []string{"serve", "--help"}, stdout: []string{"--demo"}},
		{name: "apikey create --help", args: []string{"apikey", "create", "--help"}, stdout: []string{"--org string", "--name string"}},
		{name: "--version", args: []string{"--version"}, stdout: []string{"gateway dev (commit "}},
		{name: "version", args: []string{"version"}, stdout: []string{"gateway dev (commit "}},
		{name: "unknown command", args: []string{"nosuch"}, wantErr: `unknown command "nosuch" for "gateway"`, usage: true},
		{name: "misspelt command", args: []string{"serv"}, wantErr: `unknown command "serv" for "gateway" (did you mean "serve"?)`, usage: true},
		{name: "unknown subcommand", args: []string{"config", "show"}, wantErr: `unknown command "show" for "gateway config"`, usage: true},
		{name: "unknown flag", args: []string{"--nosuch"}, wantErr: "unknown flag: --nosuch", usage: true},
		{name: "unknown flag of a subcommand", args: []string{"keys", "generate", "--demo"}, wantErr: "unknown flag: --demo", usage: true},
		{name: "unknown help topic", args: []string{"help", "nosuch"}, wantErr: `unknown help topic "nosuch"`, usage: true},
		{name: "duration flag", args: []string{"config", "print", "--shutdown-grace", "soon"}, wantErr: `invalid argument "soon" for "--shutdown-grace" flag: is not a duration`, usage: true},
		{name: "int flag", args: []string{"config", "print", "--retry-max-attempts", "many"}, wantErr: `invalid argument "many" for "--retry-max-attempts" flag: is not a positive integer`, usage: true},
		{name: "missing subcommand", args: []string{"apikey"}, wantErr: "usage: gateway apikey needs a subcommand: create", usage: true},
		{name: "apikey without org", args: []string{"apikey", "create", "--name", "n"}, wantErr: "usage: gateway apikey create --org ORG --name NAME", usage: true},
		{name: "stray argument", args: []string{"version", "now"}, wantErr: `unknown command "now" for "gateway version"`, usage: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(tc.args, func(string) string { return "" }, &out, &errOut)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("error %v\n%s", err, errOut.String())
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if errors.As(err, new(usageError)) != tc.usage {
					t.Errorf("usage error: %v, want %v", !tc.usage, tc.usage)
				}
			}
			for _, want := range tc.stdout {
				if !strings.Contains(out.String(), want) {
					t.Errorf("stdout lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestFormatVersion(t *testing.T) {
	info := func(settings ...debug.BuildSetting) func() (*debug.BuildInfo, bool) {
		return func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{Settings: settings}, true }
	}
	for _, tc := range []struct {
		info func() (*debug.BuildInfo, bool)
		want string
	}{
		{func() (*debug.BuildInfo, bool) { return nil, false }, "v1 (commit unknown)"},
		{info(), "v1 (commit unknown)"},
		{info(debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}, debug.BuildSetting{Key: "vcs.modified", Value: "false"}), "v1 (commit abc123)"},
		{info(debug.BuildSetting{Key: "vcs.revision", Value: "abc123"}, debug.BuildSetting{Key: "vcs.modified", Value: "true"},
			debug.BuildSetting{Key: "vcs.time", Value: "2026-12-08T00:00:00Z"}), "v1 (commit abc123+modified, 2026-12-08T00:00:00Z)"},
	} {
		if got := formatVersion("v1", tc.info); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
