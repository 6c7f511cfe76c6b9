package watch

import (
	"encoding/json"
	"time"
)

// CheckDefinition says how a health check runs, as Consul reports it. Its
// fields, and its JSON, are those consul-template exposes.
type CheckDefinition struct {
	HTTP                                   string
	Header                                 map[string][]string
	Method                                 string
	Body                                   string
	TLSServerName                          string
	TLSSkipVerify                          bool
	TCP                                    string
	TCPUseTLS                              bool
	UDP                                    string
	GRPC                                   string
	OSService                              string
	GRPCUseTLS                             bool
	IntervalDuration                       time.Duration `json:"-"`
	TimeoutDuration                        time.Duration `json:"-"`
	DeregisterCriticalServiceAfterDuration time.Duration `json:"-"`
	SessionName                            string        `json:",omitempty"`
	// Interval, Timeout and DeregisterCriticalServiceAfter repeat the
	// durations above under their older names.
	Interval                       time.Duration
	Timeout                        time.Duration
	DeregisterCriticalServiceAfter time.Duration
}

// MarshalJSON writes the durations as strings ahead of the other fields, the
// shape Consul's API client gives it.
func (d CheckDefinition) MarshalJSON() ([]byte, error) {
	type fields CheckDefinition
	return json.Marshal(struct {
		Interval                       string
		Timeout                        string
		DeregisterCriticalServiceAfter string
		fields
	}{
		Interval:                       d.IntervalDuration.String(),
		Timeout:                        d.TimeoutDuration.String(),
		DeregisterCriticalServiceAfter: d.DeregisterCriticalServiceAfterDuration.String(),
		fields:                         fields(d),
	})
}
