package main

import "github.com/ctpl/ctpl/template"

// LanguageConfig holds the template-language options. Each template may set
// them; `template_defaults` sets them for every template that does not.
type LanguageConfig struct {
	LeftDelimiter     string `yaml:"left_delimiter"`
	RightDelimiter    string `yaml:"right_delimiter"`
	ErrorOnMissingKey bool   `yaml:"error_on_missing_key"`
}

// languageOptions returns the template options of tc, falling back on the
// configured defaults.
func languageOptions(cfg Config, tc TemplateConfig) template.Options {
	d := cfg.TemplateDefaults
	return template.Options{
		LeftDelim:       firstNonEmpty(tc.LeftDelimiter, d.LeftDelimiter),
		RightDelim:      firstNonEmpty(tc.RightDelimiter, d.RightDelimiter),
		ErrOnMissingKey: tc.ErrorOnMissingKey || d.ErrorOnMissingKey,
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
