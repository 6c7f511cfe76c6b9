package renderer

import (
	"testing"
)

// Checks and reloads start from ctpl's environment without the Consul
// token and systemd's variables, as the exec child does, unless given an
// environment that has them.
func TestCommandEnvironmentHasNoConsulToken(t *testing.T) {
	t.Setenv("CONSUL_HTTP_TOKEN", "s3cret")
	t.Setenv("CONSUL_HTTP_TOKEN_FILE", "/run/token")
	t.Setenv("NOTIFY_SOCKET", "/run/notify")
	t.Setenv("CTPL_TEST_KEEP", "kept")
	show := CommandFromList([]string{"sh", "-c", `printf '%s|%s|%s|%s|%s' "$CONSUL_HTTP_TOKEN" "$CONSUL_HTTP_TOKEN_FILE" "$NOTIFY_SOCKET" "$CTPL_TEST_KEEP" "$CTPL_STAGED"`})
	withToken := show
	withToken.Env = []string{"CONSUL_HTTP_TOKEN=s3cret", "CTPL_TEST_KEEP=kept"}
	tests := []struct {
		name string
		cmd  Command
		env  []string
		want string
	}{
		{name: "a reload", cmd: show, want: "|||kept|"},
		{name: "a check", cmd: show, env: []string{StagedEnv + "=/tmp/x"}, want: "|||kept|/tmp/x"},
		{name: "opted in", cmd: withToken, want: "s3cret|||kept|"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.cmd.Run(t.Context(), 0, tc.env)
			if err != nil || string(res.Output) != tc.want {
				t.Fatalf("output %q, %v; want %q", res.Output, err, tc.want)
			}
		})
	}
}
