package watch

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// UntrustedPolicy says what happens to registry strings (service and node
// names, tags, metadata, addresses, KV keys) that hold control characters,
// line or paragraph separators or invalid UTF-8 (see [Untrusted]): whoever
// can register in Consul writes them, and a newline in a tag would
// otherwise inject directives into a config.
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

// FormatCharPolicy says whether Unicode format characters (category Cf:
// bidirectional overrides such as U+202E, zero-width spaces and joiners,
// the byte order mark, soft hyphens, tag characters) make a registry string
// untrusted. They cannot break a config's syntax, but they can make what a
// reviewer reads differ from what a program parses ("Trojan Source").
type FormatCharPolicy string

// The format-character policies.
const (
	// FormatCharsScreen makes a string with a format character untrusted:
	// the UntrustedPolicy then decides (drop, error or allow).
	FormatCharsScreen FormatCharPolicy = "screen"
	// FormatCharsAllow lets format characters through, as consul-template
	// does (emoji sequences with a zero-width joiner, for instance).
	FormatCharsAllow FormatCharPolicy = "allow"
)

// ParseFormatCharPolicy reads a format-character policy name; "" is
// FormatCharsScreen.
func ParseFormatCharPolicy(s string) (FormatCharPolicy, error) {
	switch p := FormatCharPolicy(s); p {
	case "":
		return FormatCharsScreen, nil
	case FormatCharsScreen, FormatCharsAllow:
		return p, nil
	}
	return "", fmt.Errorf("untrusted_format_chars %q: want screen or allow", s)
}

// Untrusted reports whether s holds a control character (Unicode category
// Cc: C0, DEL and C1 such as NEL U+0085 and CSI U+009B), a line or
// paragraph separator (U+2028, U+2029), or is not valid UTF-8. The
// replacement character U+FFFD counts as invalid UTF-8: Consul stores
// invalid bytes as they came, and JSON decoding turns them into U+FFFD
// before any screen can see them.
func Untrusted(s string) bool {
	return untrusted(s, false)
}

// UntrustedWith is Untrusted, and also true for a string holding a format
// character (category Cf) under FormatCharsScreen.
func UntrustedWith(s string, format FormatCharPolicy) bool {
	return untrusted(s, format != FormatCharsAllow)
}

func untrusted(s string, formatChars bool) bool {
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b < 0x20 || b == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r <= 0x9f || r == 0x2028 || r == 0x2029 ||
			formatChars && unicode.Is(unicode.Cf, r) {
			return true // invalid UTF-8, U+FFFD, C1 controls, separators
		}
		i += n
	}
	return false
}
