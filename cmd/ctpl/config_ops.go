package main

import "github.com/ctpl/ctpl/renderer"

// OpsConfig holds the top-level keys of operations: metrics, exec mode (issue 7).
type OpsConfig struct{}

// TemplateOpsConfig holds the per-template keys of operations (issue 7).
type TemplateOpsConfig struct{}

// applyOps copies tc's operations settings into t.
func applyOps(cfg Config, tc TemplateConfig, t *renderer.Template) error {
	return nil
}
