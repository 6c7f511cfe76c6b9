package consultest

import (
	"maps"
	"testing"
)

func TestParseExposition(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    map[string]float64
		wantErr bool
	}{
		{
			name: "counter gauge and summary",
			text: "# HELP consul_rpc_request Increments when a server receives a request.\n" +
				"# TYPE consul_rpc_request counter\n" +
				"consul_rpc_request 28\n" +
				"consul_rpc_queries_blocking 0\n" +
				"consul_raft_apply{quantile=\"0.5\"} NaN\n" +
				"consul_raft_apply_sum 1.5\n" +
				"consul_raft_apply_count 3\n",
			want: map[string]float64{"consul_rpc_request": 28, "consul_rpc_queries_blocking": 0,
				"consul_raft_apply_sum": 1.5, "consul_raft_apply_count": 3},
		},
		{
			name: "labels summed, quoted braces and buckets",
			text: "consul_api_http_count{method=\"GET\",path=\"v1_kv_\"} 2\n" +
				"consul_api_http_count{method=\"PUT\",path=\"a}b \\\"c\\\"\"} 3 1700000000\n" +
				"x_bucket{le=\"0.1\"} 9\n" +
				"x{a=\"1\",quantile=\"0.9\"} 7\n",
			want: map[string]float64{"consul_api_http_count": 5},
		},
		{name: "no value", text: "consul_rpc_request\n", wantErr: true},
		{name: "unterminated labels", text: "x{a=\"}\n", wantErr: true},
		{name: "bad value", text: "x 1,5\n", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseExposition(tc.text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !maps.Equal(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
