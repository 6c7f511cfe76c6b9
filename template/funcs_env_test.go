package template

import (
	"net"
	"testing"
	"time"
)

func TestTimestamp(t *testing.T) {
	fixed := time.Date(2024, 2, 29, 13, 4, 5, 0, time.UTC)
	timestamp := timestampFunc(func() time.Time { return fixed })
	tests := []struct {
		name    string
		args    []string
		want    string
		wantErr string
	}{
		{name: "RFC 3339", want: "2024-02-29T13:04:05Z"},
		{name: "layout", args: []string{"2006-01-02"}, want: "2024-02-29"},
		{name: "unix", args: []string{"unix"}, want: "1709211845"},
		{name: "empty layout", args: []string{""}, want: ""},
		{name: "too many", args: []string{"a", "b"}, wantErr: "timestamp: want at most 1 argument, got 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := timestamp(tc.args...)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestEnvHelpers(t *testing.T) {
	t.Setenv("CTPL_TEST_PROCESS_EMPTY", "")
	runHelperCases(t, []helperCase{
		{name: "mustEnv set", text: `{{ mustEnv "CTPL_TEST_REGION" }}`, want: "eu-west"},
		{name: "mustEnv empty", text: `{{ mustEnv "CTPL_TEST_EMPTY" }}`, wantErr: "mustEnv: required environment variable CTPL_TEST_EMPTY is empty"},
		{name: "mustEnv unset", text: `{{ mustEnv "CTPL_TEST_UNSET" }}`, wantErr: "mustEnv: required environment variable CTPL_TEST_UNSET is empty"},
		{name: "envOrDefault set", text: `{{ envOrDefault "CTPL_TEST_REGION" "d" }}`, want: "eu-west"},
		{name: "envOrDefault unset", text: `{{ envOrDefault "CTPL_TEST_UNSET" "d" }}`, want: "d"},
		{name: "envOrDefault set empty", text: `[{{ envOrDefault "CTPL_TEST_PROCESS_EMPTY" "d" }}]`, want: "[]"},
		{name: "timestamp runs", text: `{{ if timestamp "unix" }}ok{{ end }}`, want: "ok"},
	})
}

func TestSockaddr(t *testing.T) {
	if ifs, err := net.Interfaces(); err != nil || !hasLoopbackIPv4(ifs) {
		t.Skip("no IPv4 loopback interface here")
	}
	runHelperCases(t, []helperCase{
		{name: "loopback", text: `{{ sockaddr "GetAllInterfaces | include \"flag\" \"loopback\" | include \"type\" \"IPv4\" | sort \"address\" | limit 1 | attr \"address\"" }}`,
			want: "127.0.0.1"},
		{name: "several arguments", text: `{{ sockaddr "GetAllInterfaces" "| include \"flag\" \"loopback\" | include \"type\" \"IPv4\" | limit 1 | attr \"address\"" }}`,
			want: "127.0.0.1"},
		{name: "unknown function", text: `{{ sockaddr "Bogus" }}`, wantErr: `sockaddr: unable to parse template "{{ Bogus }}"`},
	})
}

func hasLoopbackIPv4(ifs []net.Interface) bool {
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback == 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				return true
			}
		}
	}
	return false
}
