package config

import (
	"cmp"
	"fmt"
	"time"

	"github.com/ctpl/ctpl/template"
)

// LanguageConfig holds the template-language options. Each template may set
// them; `template_defaults` sets them for every template that does not. A
// list given on a template replaces the default list (`[]` clears it).
type LanguageConfig struct {
	LeftDelimiter     string `yaml:"left_delimiter"`
	RightDelimiter    string `yaml:"right_delimiter"`
	ErrorOnMissingKey *bool  `yaml:"error_on_missing_key"`
	// FunctionDenylist names functions templates may not call, as globs
	// ("sprig_*"); a template calling one fails to load.
	FunctionDenylist []string `yaml:"function_denylist"`
	// FunctionBlacklist is consul-template's older name of FunctionDenylist;
	// both lists apply.
	FunctionBlacklist []string `yaml:"function_blacklist"`
	// SandboxPath confines `file` to paths resolving inside this directory.
	SandboxPath string `yaml:"sandbox_path"`
	// AllowFunctions enables functions that act on the host and are off by
	// default: plugin and writeToFile.
	AllowFunctions []string `yaml:"allow_functions"`
	// MaxOutputBytes bounds a render's output (0: 64 MiB); a render passing
	// it is abandoned and the destination keeps its content.
	MaxOutputBytes int `yaml:"max_output_bytes"`
	// MaxRenderTime bounds a render's time (0: 30s), likewise.
	MaxRenderTime time.Duration `yaml:"max_render_time"`
}

// languageOptions returns the template options of tc, falling back on the
// configured defaults.
func languageOptions(cfg Config, tc TemplateConfig) (template.Options, error) {
	d := cfg.TemplateDefaults
	for _, c := range []LanguageConfig{tc.LanguageConfig, d} {
		if c.MaxOutputBytes < 0 {
			return template.Options{}, fmt.Errorf("max_output_bytes %d: want a number of bytes above 0", c.MaxOutputBytes)
		}
		if c.MaxRenderTime < 0 {
			return template.Options{}, fmt.Errorf("max_render_time %s: want a duration above 0", c.MaxRenderTime)
		}
	}
	return template.Options{
		LeftDelim:       firstNonEmpty(tc.LeftDelimiter, d.LeftDelimiter),
		RightDelim:      firstNonEmpty(tc.RightDelimiter, d.RightDelimiter),
		ErrOnMissingKey: firstSet(tc.ErrorOnMissingKey, d.ErrorOnMissingKey),
		Denylist:        firstList(denylist(tc.LanguageConfig), denylist(d)),
		SandboxPath:     firstNonEmpty(tc.SandboxPath, d.SandboxPath),
		Allow:           firstList(tc.AllowFunctions, d.AllowFunctions),
		MaxOutput:       cmp.Or(tc.MaxOutputBytes, d.MaxOutputBytes),
		MaxRenderTime:   cmp.Or(tc.MaxRenderTime, d.MaxRenderTime),
	}, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// firstSet returns the first flag that is set, or false.
func firstSet(flags ...*bool) bool {
	for _, f := range flags {
		if f != nil {
			return *f
		}
	}
	return false
}

// firstList returns the first list that is given (nil is not given; an
// empty list is).
func firstList(lists ...[]string) []string {
	for _, l := range lists {
		if l != nil {
			return l
		}
	}
	return nil
}

// denylist returns function_denylist and function_blacklist together, or
// nil when neither is given.
func denylist(c LanguageConfig) []string {
	if c.FunctionDenylist == nil && c.FunctionBlacklist == nil {
		return nil
	}
	return append(append([]string{}, c.FunctionDenylist...), c.FunctionBlacklist...)
}
