package config

import "github.com/ctpl/ctpl/template"

// LanguageOptions returns the template-language options tc is parsed with
// (its own, else template_defaults): what `ctpl check` needs to read a
// template's text as the agent would.
func (c Config) LanguageOptions(tc TemplateConfig) (template.Options, error) {
	return languageOptions(c, tc)
}

// Place is where tc was configured: the config file and the line of its
// entry; an empty file for a -template flag.
func (tc TemplateConfig) Place() (file string, line int) {
	return tc.place.file, tc.place.line
}
