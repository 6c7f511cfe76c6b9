package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ctpl/ctpl/renderer"
)

// AgentSafetyConfig holds the top-level keys of safe apply (issue 5).
type AgentSafetyConfig struct {
	// MinReloadInterval spaces the runs of each reload command (default 1s;
	// 0 runs them as often as content changes).
	MinReloadInterval *time.Duration `yaml:"min_reload_interval"`
	// StateDir keeps the reloads owed across restarts (the systemd unit uses
	// /var/lib/ctpl); empty keeps none.
	StateDir string `yaml:"state_dir"`
}

// TemplateSafetyConfig holds the per-template keys of safe apply (issue 5).
type TemplateSafetyConfig struct {
	// Check runs against the staged file before it replaces the destination:
	// a string or a list like command; "{{.Staged}}" in the list form and
	// $CTPL_STAGED name the staged file.
	Check        CommandConfig `yaml:"check"`
	CheckTimeout time.Duration `yaml:"check_timeout"`
	// OnEmpty is hold (default) or allow: what to do when a health service
	// query that had instances returns none.
	OnEmpty string `yaml:"on_empty"`
	// MaxShrink such as "50%" holds a render that drops more than that share
	// of a query's instances.
	MaxShrink string `yaml:"max_shrink"`
}

// applySafety copies tc's safe-apply settings into t.
func applySafety(cfg Config, tc TemplateConfig, t *renderer.Template) error {
	if tc.Check.Shell != "" && len(tc.Check.Args) > 0 {
		return fmt.Errorf("check is a string or a list, not both")
	}
	t.Check = renderer.ParseCommand(tc.Check.Shell)
	if len(tc.Check.Args) > 0 {
		t.Check = renderer.CommandFromList(tc.Check.Args)
	}
	t.CheckTimeout = tc.CheckTimeout
	switch tc.OnEmpty {
	case "", renderer.OnEmptyHold, renderer.OnEmptyAllow:
		t.OnEmpty = tc.OnEmpty
	default:
		return fmt.Errorf("on_empty %q: want hold or allow", tc.OnEmpty)
	}
	shrink, err := parseShare(tc.MaxShrink)
	if err != nil {
		return fmt.Errorf("max_shrink: %w", err)
	}
	t.MaxShrink = shrink
	return nil
}

// parseShare reads "50%" or "0.5" as 0.5; "" is 0 (no limit).
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	scale := 1.0
	if p, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(p), 100
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v/scale > 1 {
		return 0, fmt.Errorf("%q: want a share such as 50%% (above 0, at most 100%%)", s)
	}
	return v / scale, nil
}

// SafetyOptions sets the agent options of safe apply from c.
func (c Config) SafetyOptions(o *renderer.Options) {
	o.StateDir = c.StateDir
	switch {
	case c.MinReloadInterval == nil:
		o.MinReloadInterval = renderer.DefaultMinReloadInterval
	case *c.MinReloadInterval <= 0:
		o.MinReloadInterval = -1
	default:
		o.MinReloadInterval = *c.MinReloadInterval
	}
}
