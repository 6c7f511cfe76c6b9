package template

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	socktmpl "github.com/hashicorp/go-sockaddr/template"
)

// hostFuncs read the host: its environment, clock and network interfaces.
// env itself is in envFuncs.
func (t *Template) hostFuncs() map[string]any {
	return map[string]any{
		"mustEnv":      t.mustEnv,
		"envOrDefault": t.envOrDefault,
		"timestamp":    timestampFunc(func() time.Time { return time.Now().UTC() }),
		"sockaddr":     sockaddr,
	}
}

// mustEnv returns the environment variable name, failing the template when
// it is unset or empty.
func (t *Template) mustEnv(name string) (string, error) {
	v := t.opts.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("mustEnv: required environment variable %s is empty", name)
	}
	return v, nil
}

// envOrDefault returns the environment variable name when it is set, even
// to "", and def when it is not.
//
// Options.Getenv cannot tell unset from empty, so an empty value counts as
// set only when the process environment has the variable set and empty.
func (t *Template) envOrDefault(name, def string) string {
	if v := t.opts.Getenv(name); v != "" {
		return v
	}
	if v, ok := os.LookupEnv(name); ok && v == "" {
		return ""
	}
	return def
}

// timestampFunc returns timestamp reading the clock now: with no argument
// the time in RFC 3339, with "unix" the Unix time in seconds, else the time
// in the given Go layout (consul-template's clock is UTC).
func timestampFunc(now func() time.Time) func(layout ...string) (string, error) {
	return func(layout ...string) (string, error) {
		l, err := oneOptional("timestamp", layout)
		switch {
		case err != nil:
			return "", err
		case len(layout) == 0:
			return now().Format(time.RFC3339), nil
		case l == "unix":
			return strconv.FormatInt(now().Unix(), 10), nil
		}
		return now().Format(l), nil
	}
}

// sockaddr evaluates its arguments, joined by spaces, as a go-sockaddr
// template action: {{ sockaddr "GetPrivateIP" }}.
func sockaddr(args ...string) (string, error) {
	out, err := socktmpl.Parse("{{ " + strings.Join(args, " ") + " }}")
	if err != nil {
		return "", fmt.Errorf("sockaddr: %w", err)
	}
	return out, nil
}
