package supervise

import (
	"path"
	"slices"
	"strings"
)

// EnvOptions say which of ctpl's environment variables the child gets.
type EnvOptions struct {
	// Pristine starts from an empty environment instead of ctpl's.
	Pristine bool
	// Allow, when not empty, keeps only variables whose name matches one of
	// these shell patterns (path.Match syntax); Deny then drops matches.
	Allow, Deny []string
	// Custom adds NAME=value entries last; they always reach the child.
	Custom []string
	// PassConsulToken lets CONSUL_HTTP_TOKEN and CONSUL_HTTP_TOKEN_FILE
	// through; by default the child never sees them.
	PassConsulToken bool
}

// secretVars never reach the child unless configured.
var secretVars = []string{"CONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN_FILE"}

// serviceVars belong to ctpl's own service manager conversation: a child
// that saw them could answer systemd in ctpl's name.
var serviceVars = []string{"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}

// Env returns the child's environment built from environ (os.Environ()).
func Env(o EnvOptions, environ []string) []string {
	var out []string
	if !o.Pristine {
		for _, kv := range environ {
			name, _, _ := strings.Cut(kv, "=")
			if o.keep(name) {
				out = append(out, kv)
			}
		}
	}
	for _, kv := range o.Custom {
		name, _, _ := strings.Cut(kv, "=")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		out = append(out, kv)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func (o EnvOptions) keep(name string) bool {
	if slices.Contains(serviceVars, name) {
		return false
	}
	if !o.PassConsulToken && slices.Contains(secretVars, name) {
		return false
	}
	if len(o.Allow) > 0 && !matchAny(o.Allow, name) {
		return false
	}
	return !matchAny(o.Deny, name)
}

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
