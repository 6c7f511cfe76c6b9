package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// runConvert is `ctpl convert FILE|DIR…`: it writes consul-template's
// configuration files as one ctpl YAML file on stdout, with a comment on
// every key whose meaning changes or that is dropped, and tells on stderr
// what was dropped. Keys ctpl cannot honour are marked NOT CONVERTED in the
// YAML and make the exit code 15.
func runConvert(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprintln(stderr, "Usage: ctpl convert FILE|DIR... > ctpl.yaml\n\n"+
			"Writes consul-template's HCL or JSON configuration (files, or directories read in lexical order,\n"+
			"later files winning) as one ctpl YAML file; see docs/migration.md.")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			return exitOK
		}
		return exitFlags
	}
	conv, err := config.Convert(args...)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl convert: %v\n", err)
		return exitConfig
	}
	if _, err := stdout.Write(conv.YAML); err != nil {
		fmt.Fprintf(stderr, "ctpl convert: %v\n", err)
		return exitError
	}
	for _, w := range conv.Warnings {
		fmt.Fprintf(stderr, "ctpl convert: warning: %s\n", w)
	}
	for _, e := range conv.Errors {
		fmt.Fprintf(stderr, "ctpl convert: error: %s\n", e)
	}
	if len(conv.Errors) > 0 {
		fmt.Fprintf(stderr, "ctpl convert: %d key(s) marked NOT CONVERTED need a decision before ctpl runs this configuration\n",
			len(conv.Errors))
		return exitConfig
	}
	return exitOK
}
