package config

import (
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch/consul"
)

func TestConsulSSLConfig(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want consul.Options
	}{
		{
			name: "consul-template names",
			yaml: "consul:\n  address: https://c:8501\n  max_conns: 40\n  ssl:\n    enabled: true\n    verify: false\n" +
				"    ca_cert: /ca.pem\n    cert: /c.pem\n    key: /k.pem\n    server_name: consul.test\n",
			want: consul.Options{Address: "https://c:8501", MaxConns: 40, TLS: consul.TLSOptions{
				Enable: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "consul.test",
				InsecureSkipVerify: true}},
		},
		{
			name: "file aliases; verify defaults to on",
			yaml: "consul:\n  ssl:\n    ca_file: /ca.pem\n    cert_file: /c.pem\n    key_file: /k.pem\n    ca_path: /cas\n",
			want: consul.Options{TLS: consul.TLSOptions{CAFile: "/ca.pem", CAPath: "/cas", CertFile: "/c.pem", KeyFile: "/k.pem"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			if err := decode(&cfg, "test.yaml", []byte(tc.yaml)); err != nil {
				t.Fatal(err)
			}
			got := cfg.Consul.Options()
			if got.Address != tc.want.Address || got.MaxConns != tc.want.MaxConns || got.TLS != tc.want.TLS {
				t.Errorf("options %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestConsulLimitsConfig(t *testing.T) {
	tests := []struct {
		name       string
		yaml       string
		wantAnswer int64
		wantErrors int
		wantErr    string // in Validate's error; "" for none
	}{
		{name: "defaults are the client's", yaml: "log_level: info\n"},
		{name: "set", yaml: "consul:\n  max_answer_bytes: 268435456\n  max_error_bytes: 1024\n",
			wantAnswer: 256 << 20, wantErrors: 1024},
		{name: "negative", yaml: "consul:\n  max_answer_bytes: -1\n", wantAnswer: -1,
			wantErr: "max_answer_bytes and consul.max_error_bytes cannot be negative"},
		{name: "format characters allowed", yaml: "untrusted_format_chars: allow\n"},
		{name: "format characters: unknown policy", yaml: "untrusted_format_chars: drop\n",
			wantErr: `untrusted_format_chars "drop": want screen or allow`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Default()
			if err := decode(&cfg, "test.yaml", []byte(tc.yaml+"templates: [{contents: x, destination: /tmp/x}]\n")); err != nil {
				t.Fatal(err)
			}
			got := cfg.Consul.Options()
			if got.MaxAnswerBytes != tc.wantAnswer || got.MaxErrorBytes != tc.wantErrors {
				t.Errorf("limits %d/%d, want %d/%d", got.MaxAnswerBytes, got.MaxErrorBytes, tc.wantAnswer, tc.wantErrors)
			}
			err := cfg.Validate()
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
