package consul

import "testing"

func TestLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{addr: "127.0.0.1:8500", want: true},
		{addr: "http://127.0.0.1:8500", want: true},
		{addr: "https://localhost:8501/prefix", want: true},
		{addr: "[::1]:8500", want: true},
		{addr: "unix:///run/consul.sock", want: true},
		{addr: "localhost", want: true},
		{addr: "10.0.0.1:8500", want: false},
		{addr: "https://consul.example:8501", want: false},
		{addr: "", want: false},
	}
	for _, tc := range tests {
		if got := loopback(tc.addr); got != tc.want {
			t.Errorf("loopback(%q) = %v, want %v", tc.addr, got, tc.want)
		}
	}
}
