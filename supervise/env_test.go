package supervise_test

import (
	"slices"
	"testing"

	"github.com/ctpl/ctpl/supervise"
)

func TestEnv(t *testing.T) {
	environ := []string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_TOKEN=secret", "CONSUL_HTTP_ADDR=x:8500",
		"NOTIFY_SOCKET=/run/systemd/notify", "WATCHDOG_USEC=1000", "APP_MODE=prod"}
	tests := []struct {
		name string
		opts supervise.EnvOptions
		want []string
	}{
		{name: "default drops the token and systemd's variables", opts: supervise.EnvOptions{},
			want: []string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_ADDR=x:8500", "APP_MODE=prod"}},
		{name: "token passed when configured", opts: supervise.EnvOptions{PassConsulToken: true},
			want: []string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_TOKEN=secret", "CONSUL_HTTP_ADDR=x:8500", "APP_MODE=prod"}},
		{name: "allow glob never lets the token through", opts: supervise.EnvOptions{Allow: []string{"CONSUL_*"}},
			want: []string{"CONSUL_HTTP_ADDR=x:8500"}},
		{name: "deny", opts: supervise.EnvOptions{Deny: []string{"APP_*", "HOME"}},
			want: []string{"PATH=/bin", "CONSUL_HTTP_ADDR=x:8500"}},
		{name: "pristine with custom", opts: supervise.EnvOptions{Pristine: true, Custom: []string{"A=1"}},
			want: []string{"A=1"}},
		{name: "custom overrides", opts: supervise.EnvOptions{Allow: []string{"PATH"}, Custom: []string{"PATH=/usr/bin"}},
			want: []string{"PATH=/usr/bin"}},
		{name: "pristine and empty is empty, not inherited", opts: supervise.EnvOptions{Pristine: true},
			want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := supervise.Env(tc.opts, environ)
			if !slices.Equal(got, tc.want) || got == nil {
				t.Errorf("Env = %q, want %q", got, tc.want)
			}
		})
	}
}
