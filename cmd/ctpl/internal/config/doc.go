// Package config is ctpl's configuration: the keys of its YAML files, their
// defaults, decoding and validation, and their translation into the options
// of the packages ctpl wires together (the Consul client's, the renderer's
// templates and agent options, the exec supervisor's).
//
// Default gives the configuration before any file; LoadFile decodes one
// file over it (keys it names win, its templates are added); Validate checks
// what decoding cannot; BuildTemplates parses every template. The parsing
// helpers that command-line flags share with config keys (ParseWait,
// ParseTemplateFlag, CheckLogLevel, …) live here too, so a value means the
// same whether a flag or a file gives it.
//
// Each concern keeps its keys in a file of its own, with one line embedding
// its struct in Config or TemplateConfig: lang.go (the template language),
// safety.go (safe apply), ops.go (metrics and exec mode), dest.go (where
// templates were configured, destination checks).
//
// Nothing here runs concurrently: a Config is built once, validated, and
// then only read.
package config
