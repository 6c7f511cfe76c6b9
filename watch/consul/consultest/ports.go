package consultest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// portState remembers the ports handed out in this process, so that two
// agents never get the same one even before either has bound it.
var portState struct {
	sync.Mutex
	taken map[int]bool
}

// pickPorts chooses the agent's ports, the HTTPS one used only on request.
func pickPorts() (ports, error) {
	ps, err := freePorts(6)
	if err != nil {
		return ports{}, err
	}
	return ports{http: ps[0], dns: ps[1], serfLAN: ps[2], serfWAN: ps[3], server: ps[4], https: ps[5]}, nil
}

// freePorts returns n distinct random ports, free for TCP and UDP on
// 127.0.0.1, that this process has not handed out before.
func freePorts(n int) ([]int, error) {
	lo, hi := portRange()
	portState.Lock()
	defer portState.Unlock()
	if portState.taken == nil {
		portState.taken = make(map[int]bool)
	}
	out := make([]int, 0, n)
	for tries := 0; len(out) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("pick ports: no free port in [%d, %d) after %d tries", lo, hi, tries)
		}
		p := lo + mathrand.IntN(hi-lo)
		if portState.taken[p] || !portFree(p) {
			continue
		}
		portState.taken[p] = true
		out = append(out, p)
	}
	return out, nil
}

// portFree reports whether port p can be bound on 127.0.0.1 for both TCP
// and UDP.
func portFree(p int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	l, err := net.Listen("tcp4", addr)
	if err != nil {
		return false
	}
	defer l.Close()
	c, err := net.ListenPacket("udp4", addr)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// portRange returns the half-open range ports are picked from: below the
// kernel's ephemeral range, where outgoing connections never land, when
// there is room; else above it; else anywhere from 10000 up.
func portRange() (lo, hi int) {
	const floor, top, room = 10000, 65536, 1000
	eLo, eHi := 32768, 60999 // Linux defaults
	data, _ := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if _, err := fmt.Sscan(string(data), &eLo, &eHi); err != nil || eLo > eHi {
		eLo, eHi = 32768, 60999
	}
	switch {
	case eLo-floor >= room:
		return floor, eLo
	case top-(eHi+1) >= room:
		return eHi + 1, top
	default:
		return floor, top
	}
}

// writeSelfSigned writes a self-signed certificate for 127.0.0.1 and
// localhost, usable as its own CA, and its key into dir.
func writeSelfSigned(dir string) (certFile, keyFile string, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", fmt.Errorf("generate TLS key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "consultest"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", fmt.Errorf("create TLS certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", fmt.Errorf("encode TLS key: %w", err)
	}
	certFile, keyFile = filepath.Join(dir, "tls-cert.pem"), filepath.Join(dir, "tls-key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if err := errors.Join(os.WriteFile(certFile, certPEM, 0o644), os.WriteFile(keyFile, keyPEM, 0o600)); err != nil {
		return "", "", fmt.Errorf("write TLS files: %w", err)
	}
	return certFile, keyFile, nil
}
