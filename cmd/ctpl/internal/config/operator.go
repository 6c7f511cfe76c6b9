package config

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/supervise"
)

// OperatorConfig holds the top-level keys of operator experience (issue 18).
type OperatorConfig struct {
	// LogDiff logs a unified diff (at most 16 KiB) of every write of every
	// template; a template's own log_diff wins.
	LogDiff bool `yaml:"log_diff"`
}

// TemplateOperatorConfig holds the per-template keys of operator
// experience (issue 18).
type TemplateOperatorConfig struct {
	// Verify runs after a successful reload and proves the target runs the
	// new content (a string or a list like command); when it fails the
	// reload counts as failed: the last good content is restored and
	// reloaded, and the template is marked degraded.
	Verify        CommandConfig `yaml:"verify"`
	VerifyTimeout time.Duration `yaml:"verify_timeout"`
	// LogDiff, when set, overrides the top-level log_diff.
	LogDiff *bool `yaml:"log_diff"`
}

// applyOperator copies tc's operator settings into t.
func applyOperator(cfg Config, tc TemplateConfig, t *renderer.Template) error {
	v := tc.Verify
	if v.Shell != "" && len(v.Args) > 0 {
		return errors.New("verify is a string or a list, not both")
	}
	if tc.VerifyTimeout < 0 {
		return fmt.Errorf("verify_timeout %s: must not be negative", tc.VerifyTimeout)
	}
	t.Verify = renderer.ParseCommand(v.Shell)
	if len(v.Args) > 0 {
		t.Verify = renderer.CommandFromList(v.Args)
	}
	if cfg.CommandsPassConsulToken && !t.Verify.IsZero() {
		t.Verify.Env = supervise.Env(supervise.EnvOptions{PassConsulToken: true}, os.Environ())
	}
	t.VerifyTimeout = tc.VerifyTimeout
	t.LogDiff = cfg.LogDiff
	if tc.LogDiff != nil {
		t.LogDiff = *tc.LogDiff
	}
	return nil
}
