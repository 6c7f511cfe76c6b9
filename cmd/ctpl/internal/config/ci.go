package config

import "github.com/ctpl/ctpl/template"

// LanguageOptions returns the template-language options tc is parsed with
// (its own, else template_defaults): what `ctpl check` needs to read a
// template's text as the agent would.
func (c Config) LanguageOptions(tc TemplateConfig) (template.Options, error) {
	return languageOptions(c, tc)
}
