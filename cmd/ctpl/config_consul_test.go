package main

import (
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
			cfg := DefaultConfig()
			if err := decode(&cfg, "test.yaml", []byte(tc.yaml)); err != nil {
				t.Fatal(err)
			}
			got := cfg.Consul.consulOptions()
			if got.Address != tc.want.Address || got.MaxConns != tc.want.MaxConns || got.TLS != tc.want.TLS {
				t.Errorf("options %+v, want %+v", got, tc.want)
			}
		})
	}
}
