package config

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
)

// CheckLogLevel accepts what slog.Level reads: debug, info, warn, error
// (and offsets such as info+2).
func CheckLogLevel(s string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return nil
}

// CheckLogFormat accepts text and json.
func CheckLogFormat(s string) error {
	switch s {
	case "text", "json":
		return nil
	}
	return fmt.Errorf("log format %q: want text or json", s)
}

// CheckMetricsAddr accepts host:port with a port number and a host that is
// empty, localhost or an IP address: what the listener can bind without a
// name lookup.
func CheckMetricsAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: want host:port with a port number", s)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q: want an IP address or localhost before the port", s)
	}
	return nil
}

// ParseTemplateFlag reads "in:out[:command]".
func ParseTemplateFlag(s string) (TemplateConfig, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return TemplateConfig{}, fmt.Errorf("-template %q: want in:out[:command]", s)
	}
	tc := TemplateConfig{Source: parts[0], Destination: parts[1]}
	if len(parts) == 3 {
		tc.Command.Shell = parts[2]
	}
	return tc, nil
}

// ParseWait reads "min[:max]"; max defaults to 4 × min.
func ParseWait(s string) (WaitConfig, error) {
	lo, hi, hasMax := strings.Cut(s, ":")
	lo, hi = strings.TrimSpace(lo), strings.TrimSpace(hi)
	min, err := time.ParseDuration(lo)
	if err != nil {
		return WaitConfig{}, fmt.Errorf("%q: %w", s, err)
	}
	w := WaitConfig{Min: min, Max: 4 * min}
	if hasMax {
		if w.Max, err = time.ParseDuration(hi); err != nil {
			return WaitConfig{}, fmt.Errorf("%q: %w", s, err)
		}
	}
	if w.Max < w.Min {
		return WaitConfig{}, fmt.Errorf("%q: max is below min", s)
	}
	return w, nil
}
