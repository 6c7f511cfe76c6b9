package watch

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// UntrustedPolicy says what happens to registry strings (service and node
// names, tags, metadata, addresses, KV keys) that hold ASCII control
// characters or invalid UTF-8: whoever can register in Consul writes them,
// and a newline in a tag would otherwise inject directives into a config.
type UntrustedPolicy string

// The policies.
const (
	// UntrustedDrop leaves out the instance, node, tag or pair carrying the
	// value and logs a warning naming the field and the quoted value.
	UntrustedDrop UntrustedPolicy = "drop"
	// UntrustedError fails the query: templates keep their last output.
	UntrustedError UntrustedPolicy = "error"
	// UntrustedAllow passes every value through.
	UntrustedAllow UntrustedPolicy = "allow"
)

// ParseUntrustedPolicy reads a policy name; "" is UntrustedDrop.
func ParseUntrustedPolicy(s string) (UntrustedPolicy, error) {
	switch p := UntrustedPolicy(s); p {
	case "":
		return UntrustedDrop, nil
	case UntrustedDrop, UntrustedError, UntrustedAllow:
		return p, nil
	}
	return "", fmt.Errorf("untrusted_strings %q: want drop, error or allow", s)
}

// Untrusted reports whether s holds an ASCII control character (including
// DEL) or is not valid UTF-8. The replacement character U+FFFD counts as
// invalid UTF-8: Consul stores invalid bytes as they came, and JSON decoding
// turns them into U+FFFD before any screen can see them.
func Untrusted(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < 0x20 || b == 0x7f {
			return true
		}
	}
	return !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError)
}
