package api

import "time"

// CARoot is one Connect CA root certificate, the element of what `caRoots`
// returns.
type CARoot struct {
	ID          string
	Name        string
	RootCertPEM string `json:"RootCert"`
	Active      bool
	CreateIndex uint64
	ModifyIndex uint64
}

// LeafCert is a Connect leaf certificate, what `caLeaf` returns.
type LeafCert struct {
	SerialNumber  string
	CertPEM       string `json:",omitempty"`
	PrivateKeyPEM string `json:",omitempty"`
	Service       string
	ServiceURI    string
	ValidAfter    time.Time
	ValidBefore   time.Time
	CreateIndex   uint64
	ModifyIndex   uint64
}
