package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// runCISubcommand runs check, snapshot, plan or test when args name one;
// ok is false otherwise.
func runCISubcommand(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 {
		return 0, false
	}
	if parseOnly(args) { // before the agent's flags, so that check's own (-format) are known
		return runCheck(ctx, withoutFlag(args, "parse-only"), stdout, stderr), true
	}
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr), true
	case "snapshot":
		return runSnapshot(ctx, args[1:], stdout, stderr), true
	case "plan":
		return runPlan(ctx, args[1:], stdout, stderr), true
	case "test":
		return runTest(ctx, args[1:], stdout, stderr), true
	}
	return 0, false
}

// parseOnly reports whether args ask for consul-template's -parse-only
// (ctpl check).
func parseOnly(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && name == "parse-only" {
			on, err := strconv.ParseBool(val)
			return !hasVal || on && err == nil
		}
	}
	return false
}

// withoutFlag returns args without the boolean flag name (-name, --name,
// -name=…).
func withoutFlag(args []string, name string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		flagName, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && flagName == name {
			continue
		}
		out = append(out, a)
	}
	return out
}

// cli is a subcommand's parsed command line and config.
type cli struct {
	fs  *flag.FlagSet
	fl  *flags
	ci  *ciFlags
	cfg config.Config
	// cfgErr is why the config does not load (exitConfig).
	cfgErr error
	log    *slog.Logger
}

// parseCLI parses a subcommand's args with the agent's flags, the CI flags
// and those extra registers, then loads the config. It returns the exit
// code to end with when ok is false.
func parseCLI(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (c *cli, code int, ok bool) {
	fs, fl := newFlagSet(stderr)
	fs.Init("ctpl "+name, flag.ContinueOnError)
	ci := addCIFlags(fs)
	if extra != nil {
		extra(fs)
	}
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stderr, "Usage: ctpl %s [flags]\n\nSee docs/ci.md.\n\nFlags:\n", name)
			fs.SetOutput(stderr)
			fs.PrintDefaults()
			return nil, exitOK, false
		}
		fmt.Fprintf(stderr, "ctpl %s: %v; ctpl %s -h lists the flags\n", name, err, name)
		return nil, exitFlags, false
	}
	c = &cli{fs: fs, fl: fl, ci: ci}
	cfg, err := loadConfig(fs, fl)
	c.cfg, c.cfgErr = cfg, err
	c.log = newLogger(stderr, cfg)
	if err != nil {
		if _, isFlag := errors.AsType[*flagError](err); isFlag {
			fmt.Fprintf(stderr, "ctpl %s: %v\n", name, err)
			return c, exitFlags, false
		}
		return c, exitConfig, true // the caller reports config errors its own way
	}
	return c, exitOK, true
}
