package config

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// FlagValue is a consul-template flag that was set: the consul-template key
// it sets and its value (a bool, an int64, a string, or a []string for the
// repeatable ones).
type FlagValue struct {
	Name  string // without the dash
	Key   string // consul-template's key path, e.g. consul.retry.attempts
	Value any
}

// ApplyFlags puts consul-template's flags over cfg as the keys they set,
// translated as in a config file: a key ctpl ignores adds a warning naming
// the flag, one it cannot honour is an error naming the flag.
func ApplyFlags(cfg *Config, flags []FlagValue) error {
	t := &ctTranslation{doc: &yaml.Node{Kind: yaml.MappingNode}, where: func(int) string { return "" },
		pending: map[*yaml.Node][]string{}}
	ssl, sslEnabled := false, false
	for _, fv := range flags {
		k, ok := ctKeyIndex[fv.Key]
		if !ok {
			return fmt.Errorf("-%s: no key %s", fv.Name, fv.Key) // a mistake in the flag table
		}
		n := &ctNode{scalar: fv.Value}
		if l, ok := fv.Value.([]string); ok {
			n = &ctNode{isList: true}
			for _, s := range l {
				n.list = append(n.list, &ctNode{scalar: s})
			}
		}
		before := len(t.issues)
		t.key(k, ctField{key: fv.Key[strings.LastIndex(fv.Key, ".")+1:], val: n}, k.ct, t.doc, "")
		for i := before; i < len(t.issues); i++ {
			t.issues[i].Path = "-" + fv.Name
		}
		ssl = ssl || strings.HasPrefix(fv.Key, "consul.ssl.")
		sslEnabled = sslEnabled || fv.Key == "consul.ssl.enabled"
	}
	if ssl && !sslEnabled {
		set(t.doc, "consul.ssl.enabled", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: "true"}, "")
	}
	t.issues = oneLinePerMessage(t.issues)
	warnings, errs := t.split()
	cfg.Warnings = append(cfg.Warnings, warnings...)
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "\n"))
	}
	prependEnv(t.doc, cfg.Exec)
	prev := cfg.Templates
	err := t.doc.Decode(cfg)
	cfg.Templates = prev
	return err
}

// CTLogLevel is consul-template's log level as ctpl's: trace is debug, err
// is error; others are kept.
func CTLogLevel(s string) string {
	switch strings.ToLower(s) {
	case "trace":
		return "debug"
	case "err":
		return "error"
	}
	return s
}

// oneLinePerMessage joins the flags that say the same (the Vault flags,
// the log file's) into one line naming them all.
func oneLinePerMessage(issues []Issue) []Issue {
	var out []Issue
	at := map[string]int{}
	for _, is := range issues {
		if i, ok := at[is.Msg]; ok && out[i].Warning == is.Warning {
			out[i].Path += ", " + is.Path
			continue
		}
		at[is.Msg] = len(out)
		out = append(out, is)
	}
	return out
}
