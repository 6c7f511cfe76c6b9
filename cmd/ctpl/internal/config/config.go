package config

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// Config is ctpl's configuration. Its YAML keys mirror consul-template's HCL
// keys one to one.
type Config struct {
	// Warnings are what loading said about keys ctpl ignores (from
	// consul-template's configs and flags), one line each, to be logged.
	Warnings []string `yaml:"-"`

	Consul         ConsulConfig  `yaml:"consul"`
	Wait           WaitConfig    `yaml:"wait"`
	MaxStale       time.Duration `yaml:"max_stale"`
	BlockQueryWait time.Duration `yaml:"block_query_wait"`
	LogLevel       string        `yaml:"log_level"`
	LogFormat      string        `yaml:"log_format"`
	PidFile        string        `yaml:"pid_file"`
	// UntrustedStrings is drop (default), error or allow: see watch.UntrustedPolicy.
	UntrustedStrings string `yaml:"untrusted_strings"`
	// UntrustedFormatChars is screen (default) or allow: whether Unicode
	// format characters make a string untrusted; see watch.FormatCharPolicy.
	UntrustedFormatChars string           `yaml:"untrusted_format_chars"`
	Templates            []TemplateConfig `yaml:"templates"`

	// Each concern keeps its own keys in a file of its own.
	TemplateDefaults  LanguageConfig   `yaml:"template_defaults"` // lang.go
	AgentSafetyConfig `yaml:",inline"` // safety.go
	OpsConfig         `yaml:",inline"` // ops.go
	OperatorConfig    `yaml:",inline"` // operator.go
	DCConfig          `yaml:",inline"` // dc.go
}

// ConsulConfig says how to reach Consul. Empty fields keep what the CONSUL_*
// environment variables say.
type ConsulConfig struct {
	Address   string `yaml:"address"`
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	// MaxConns is the connection budget over plain HTTP (default 100);
	// over TLS, HTTP/2 uses at most 4 connections.
	MaxConns int `yaml:"max_conns"`
	// MaxAnswerBytes bounds every answer's body after decompression
	// (default 64 MiB): a longer answer is an error and the query keeps
	// its last value.
	MaxAnswerBytes int64 `yaml:"max_answer_bytes"`
	// MaxErrorBytes bounds what is kept of an error answer's body for logs
	// and /status (default 4 KiB).
	MaxErrorBytes int         `yaml:"max_error_bytes"`
	Retry         RetryConfig `yaml:"retry"`
	SSL           SSLConfig   `yaml:"ssl"`
}

// SSLConfig is TLS to Consul's HTTPS port, as consul-template's ssl block.
// Empty fields keep CONSUL_CACERT, CONSUL_CAPATH, CONSUL_CLIENT_CERT,
// CONSUL_CLIENT_KEY and CONSUL_TLS_SERVER_NAME; the *_file names are
// accepted as aliases.
type SSLConfig struct {
	Enabled    bool    `yaml:"enabled"`
	Verify     OptBool `yaml:"verify"` // default true
	CACert     string  `yaml:"ca_cert"`
	CAFile     string  `yaml:"ca_file"`
	CAPath     string  `yaml:"ca_path"`
	Cert       string  `yaml:"cert"`
	CertFile   string  `yaml:"cert_file"`
	Key        string  `yaml:"key"`
	KeyFile    string  `yaml:"key_file"`
	ServerName string  `yaml:"server_name"`
}

// OptBool is a boolean that remembers whether it was set; comparable, unlike
// *bool.
type OptBool int8

// The values of an OptBool.
const (
	Unset OptBool = iota
	False
	True
)

// UnmarshalYAML reads a YAML boolean.
func (b *OptBool) UnmarshalYAML(n *yaml.Node) error {
	var v bool
	if err := n.Decode(&v); err != nil {
		return err
	}
	*b = False
	if v {
		*b = True
	}
	return nil
}

// Options returns the Consul client options of c.
func (c ConsulConfig) Options() consul.Options {
	s := c.SSL
	return consul.Options{
		Address: c.Address, Token: c.Token, TokenFile: c.TokenFile, MaxConns: c.MaxConns,
		MaxAnswerBytes: c.MaxAnswerBytes, MaxErrorBytes: c.MaxErrorBytes,
		TLS: consul.TLSOptions{
			Enable: s.Enabled, CAFile: cmp.Or(s.CACert, s.CAFile), CAPath: s.CAPath,
			CertFile: cmp.Or(s.Cert, s.CertFile), KeyFile: cmp.Or(s.Key, s.KeyFile),
			ServerName: s.ServerName, InsecureSkipVerify: s.Verify == False,
		},
	}
}

// RetryConfig bounds the backoff after failed requests. ctpl retries forever.
type RetryConfig struct {
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

// WaitConfig is a quiescence window; Max defaults to 4 × Min.
type WaitConfig struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

// UnmarshalYAML reads "min:max" (or "min") as -wait does, or min and max
// keys.
func (w *WaitConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v, err := ParseWait(n.Value)
		if err != nil {
			return fmt.Errorf("%w: want min:max such as 2s:10s, or min and max keys", err)
		}
		*w = v
		return nil
	}
	type keys WaitConfig
	return n.Decode((*keys)(w))
}

// TemplateConfig is one template.
type TemplateConfig struct {
	Source         string        `yaml:"source"`
	Contents       string        `yaml:"contents"`
	Destination    string        `yaml:"destination"`
	Command        CommandConfig `yaml:"command"`
	CommandTimeout time.Duration `yaml:"command_timeout"`
	Perms          FileMode      `yaml:"perms"`
	Backup         bool          `yaml:"backup"`
	// User and Group own the written file: a name or a number; empty keeps
	// the existing file's (a new file gets ctpl's).
	User           string      `yaml:"user"`
	Group          string      `yaml:"group"`
	CreateDestDirs *bool       `yaml:"create_dest_dirs"`
	Wait           *WaitConfig `yaml:"wait"`

	LanguageConfig         `yaml:",inline"` // lang.go
	TemplateSafetyConfig   `yaml:",inline"` // safety.go
	TemplateOpsConfig      `yaml:",inline"` // ops.go
	TemplateOperatorConfig `yaml:",inline"` // operator.go
	TemplateDCConfig       `yaml:",inline"` // dc.go

	place templatePlace // where it was configured (dest.go)
}

// CommandConfig is a command given as one string or as a list.
type CommandConfig struct {
	Shell string   // the string form
	Args  []string // the list form
}

// UnmarshalYAML accepts a string or a list of strings; either replaces a
// command set before (by an earlier file).
func (c *CommandConfig) UnmarshalYAML(n *yaml.Node) error {
	*c = CommandConfig{}
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Decode(&c.Shell)
	case yaml.SequenceNode:
		return n.Decode(&c.Args)
	}
	return errors.New("want a string or a list of strings")
}

// FileMode is an octal file mode such as "0644"; 0 means unset.
type FileMode os.FileMode

// UnmarshalYAML reads the mode's digits as octal, quoted or not.
func (m *FileMode) UnmarshalYAML(n *yaml.Node) error {
	v, err := parseMode(n.Value)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

func parseMode(s string) (FileMode, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, fmt.Errorf("invalid file mode %q: want octal digits such as 0644", s)
	}
	return FileMode(v), nil
}

// Default returns the configuration before any file or flag.
func Default() Config {
	return Config{
		Consul:         ConsulConfig{Retry: RetryConfig{Backoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second}},
		BlockQueryWait: 60 * time.Second,
		LogLevel:       "info",
		LogFormat:      "text",
		DCConfig:       DCConfig{ReadyIgnore: []string{"@*"}},
	}
}

// Validate checks what decoding cannot, the operations keys included.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Templates) == 0 {
		errs = append(errs, errors.New("no templates: give -template or templates in a config file"))
	}
	for i, t := range c.Templates {
		name := fmt.Sprintf("%s: template %d", t.place, i+1)
		if t.Source == "" && t.Contents == "" {
			errs = append(errs, fmt.Errorf("%s: needs source or contents", name))
		}
		if t.Source != "" && t.Contents != "" {
			errs = append(errs, fmt.Errorf("%s: source and contents are exclusive", name))
		}
		if t.Destination == "" {
			errs = append(errs, fmt.Errorf("%s: needs a destination", name))
		}
		if t.Command.Shell != "" && len(t.Command.Args) > 0 {
			errs = append(errs, fmt.Errorf("%s: command is a string or a list, not both", name))
		}
	}
	errs = append(errs, c.cleanDestinations())
	if _, err := watch.ParseUntrustedPolicy(c.UntrustedStrings); err != nil {
		errs = append(errs, err)
	}
	if _, err := watch.ParseFormatCharPolicy(c.UntrustedFormatChars); err != nil {
		errs = append(errs, err)
	}
	if c.Consul.MaxAnswerBytes < 0 || c.Consul.MaxErrorBytes < 0 {
		errs = append(errs, errors.New("consul.max_answer_bytes and consul.max_error_bytes cannot be negative"))
	}
	if err := CheckLogFormat(c.LogFormat); err != nil {
		errs = append(errs, fmt.Errorf("log_format: %w", err))
	}
	if err := CheckLogLevel(c.LogLevel); err != nil {
		errs = append(errs, fmt.Errorf("log_level: %w", err))
	}
	errs = append(errs, c.validateOps(), c.validateDC())
	return errors.Join(errs...)
}
