package api

import (
	"encoding/json"
	"time"
)

// HealthCheck is one health check of a service instance or its node.
type HealthCheck struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	Namespace   string `json:",omitempty"`
	Partition   string `json:",omitempty"`
	ExposedPort int
	PeerName    string `json:",omitempty"`
	Definition  HealthCheckDefinition
	CreateIndex uint64
	ModifyIndex uint64
}

// HealthChecks are the checks of an instance.
type HealthChecks []*HealthCheck

// HealthCheckDefinition says how a health check runs, as Consul reports
// it. Interval, Timeout and DeregisterCriticalServiceAfter repeat the
// *Duration fields under their older names and type.
type HealthCheckDefinition struct {
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
	Interval                               ReadableDuration
	Timeout                                ReadableDuration
	DeregisterCriticalServiceAfter         ReadableDuration
}

// MarshalJSON writes the durations as strings ahead of the other fields.
// Like the API client's, it has a pointer receiver: a definition reached
// through its check (toJSON of a service) takes this form, a copy of one
// (toJSON .Definition) the plain struct's.
func (d *HealthCheckDefinition) MarshalJSON() ([]byte, error) {
	type fields HealthCheckDefinition
	pick := func(newer time.Duration, older ReadableDuration) string {
		if newer != 0 {
			return newer.String()
		}
		return older.String()
	}
	return json.Marshal(&struct {
		Interval                       string
		Timeout                        string
		DeregisterCriticalServiceAfter string
		*fields
	}{
		Interval:                       pick(d.IntervalDuration, d.Interval),
		Timeout:                        pick(d.TimeoutDuration, d.Timeout),
		DeregisterCriticalServiceAfter: pick(d.DeregisterCriticalServiceAfterDuration, d.DeregisterCriticalServiceAfter),
		fields:                         (*fields)(d),
	})
}

// ReadableDuration is a duration under a check definition's older names.
// Its methods have pointer receivers, as in the API client: inside a
// printed record it prints as nanoseconds, alone ({{ .Interval }}) as
// "10s".
type ReadableDuration time.Duration

// String formats the duration as time.Duration does.
func (d *ReadableDuration) String() string { return d.Duration().String() }

// Duration returns the duration as a time.Duration.
func (d *ReadableDuration) Duration() time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// AgentWeights are the DNS SRV weights of a service instance.
type AgentWeights struct {
	Passing int
	Warning int
}

// ServiceAddress is one of an instance's tagged addresses (lan_ipv4, wan,
// virtual, …).
type ServiceAddress struct {
	Address string
	Port    int
}
