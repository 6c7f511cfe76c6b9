package config

import (
	"testing"
	"time"
)

func TestParseWait(t *testing.T) {
	tests := []struct {
		in      string
		want    WaitConfig
		wantErr bool
	}{
		{in: "2s", want: WaitConfig{Min: 2 * time.Second, Max: 8 * time.Second}},
		{in: "2s:5s", want: WaitConfig{Min: 2 * time.Second, Max: 5 * time.Second}},
		{in: "5s:2s", wantErr: true},
		{in: "x", wantErr: true},
	}
	for _, tc := range tests {
		got, err := ParseWait(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseWait(%q) = %v, %v", tc.in, got, err)
		}
	}
}
