package main

import "github.com/ctpl/ctpl/renderer"

// AgentSafetyConfig holds the top-level keys of safe apply (issue 5).
type AgentSafetyConfig struct{}

// TemplateSafetyConfig holds the per-template keys of safe apply (issue 5).
type TemplateSafetyConfig struct{}

// applySafety copies tc's safe-apply settings into t.
func applySafety(cfg Config, tc TemplateConfig, t *renderer.Template) error {
	return nil
}
