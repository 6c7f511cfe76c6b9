package decode

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"unicode/utf8"
)

// lexer reads JSON from a byte slice for the decoders of this package. It
// follows encoding/json where the decoded values could differ: invalid
// UTF-8 and lone surrogates become U+FFFD, object keys match field names
// exactly or else case-insensitively, null leaves a string or number
// unchanged, and anything after the first value is not read. The first
// error sticks: every method is a no-op after it.
type lexer struct {
	b       []byte
	pos     int
	err     error
	in      *Interner // nil: strings are copied
	scratch []byte    // unescaped bytes of the current string
}

// errSyntax is wrapped by every malformed-JSON error.
var errSyntax = errors.New("invalid JSON")

func (l *lexer) fail(what string) {
	if l.err == nil {
		l.err = fmt.Errorf("decode: %w: %s at offset %d", errSyntax, what, l.pos)
	}
}

// failType records a value of the wrong type for a field, which
// encoding/json reports as an error after decoding the rest.
func (l *lexer) failType(field string) {
	if l.err == nil {
		l.err = fmt.Errorf("decode: wrong JSON type for %s at offset %d", field, l.pos)
	}
}

func (l *lexer) ws() {
	b, i := l.b, l.pos
	for i < len(b) {
		// Indented answers (Consul's dev mode) are 40% spaces.
		if i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:]) == 0x2020202020202020 {
			i += 8
			continue
		}
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			l.pos = i
			return
		}
	}
	l.pos = i
}

// peek returns the next byte after white space, 0 at the end or after an
// error.
func (l *lexer) peek() byte {
	l.ws()
	if l.err != nil || l.pos >= len(l.b) {
		return 0
	}
	return l.b[l.pos]
}

// null consumes a null literal if one comes next.
func (l *lexer) null() bool {
	if l.peek() != 'n' {
		return false
	}
	l.literal("null")
	return l.err == nil
}

func (l *lexer) literal(word string) {
	if !bytes.HasPrefix(l.b[l.pos:], []byte(word)) {
		l.fail("invalid literal")
		return
	}
	l.pos += len(word)
}

// open consumes the opening byte of an object or array; it reports false
// (with the error recorded unless the value was null) otherwise.
func (l *lexer) open(c byte, field string) bool {
	switch l.peek() {
	case c:
		l.pos++
		return true
	case 'n':
		l.literal("null")
	case 0:
		l.fail("unexpected end")
	default:
		l.failType(field)
		l.skip()
	}
	return false
}

// more reports whether another element or member follows in the object
// or array closed by end, consuming the separator. first is true before
// the first one.
func (l *lexer) more(end byte, first *bool) bool {
	c := l.peek()
	if c == end && *first {
		l.pos++
		return false
	}
	if !*first {
		switch c {
		case end:
			l.pos++
			return false
		case ',':
			l.pos++
			if l.peek() == end {
				l.fail("trailing comma")
				return false
			}
		default:
			l.fail("expected , or " + string(end))
			return false
		}
	}
	*first = false
	return l.err == nil && l.pos < len(l.b) || l.failed("unexpected end")
}

func (l *lexer) failed(what string) bool {
	l.fail(what)
	return false
}

// key reads an object key and the colon after it. The bytes are valid
// until the next string is read.
func (l *lexer) key() []byte {
	if l.peek() != '"' {
		l.fail("expected object key")
		return nil
	}
	k := l.strBytes()
	if l.peek() != ':' {
		l.fail("expected :")
		return nil
	}
	l.pos++
	return k
}

// object reads an object, calling member for each key with the lexer at
// its value, which member must consume. null reads as no members.
func (l *lexer) object(field string, member func(key []byte)) {
	if !l.open('{', field) {
		return
	}
	for first := true; l.more('}', &first); {
		member(l.key())
	}
}

// fields reads an object whose members set reads: set reads the value of
// the field it is given and reports whether there is such a field. A key
// is given as it is when set knows it, else as the name in names it
// matches case-insensitively, as encoding/json matches keys; a member no
// field matches is skipped. null reads as no members.
func (l *lexer) fields(field string, names []string, set func(name string) bool) {
	l.object(field, func(key []byte) {
		if !set(bytesString(key)) {
			if f := fold(key, names); f == "" || !set(f) {
				l.skip()
			}
		}
	})
}

// fold returns the name in names that key matches case-insensitively, as
// encoding/json matches a key no field has exactly; "" when none does.
func fold(key []byte, names []string) string {
	ascii := true
	for _, c := range key {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	for _, n := range names {
		if ascii && len(n) != len(key) {
			continue // ASCII folds byte for byte: lengths must agree
		}
		if bytes.EqualFold(key, []byte(n)) {
			return n
		}
	}
	return ""
}

// skip consumes any value, checking its syntax.
func (l *lexer) skip() {
	l.skipDepth(0)
}

// maxDepth bounds nesting, as encoding/json does (10,000).
const maxDepth = 10000

func (l *lexer) skipDepth(depth int) {
	if depth > maxDepth {
		l.fail("nested too deeply")
		return
	}
	switch c := l.peek(); {
	case c == '{':
		l.pos++
		for first := true; l.more('}', &first); {
			l.key()
			l.skipDepth(depth + 1)
		}
	case c == '[':
		l.pos++
		for first := true; l.more(']', &first); {
			l.skipDepth(depth + 1)
		}
	case c == '"':
		l.strBytes()
	case c == 't':
		l.literal("true")
	case c == 'f':
		l.literal("false")
	case c == 'n':
		l.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		l.scanNumber()
	case c == 0 && l.err == nil:
		l.fail("unexpected end")
	default:
		l.fail("unexpected character")
	}
}

// stringMap reads an object of strings into m, which it returns: null
// gives nil, and keys are added to a map already there, as encoding/json
// does.
func (l *lexer) stringMap(m map[string]string, field string) map[string]string {
	if l.peek() == 'n' {
		l.literal("null")
		return nil
	}
	if !l.open('{', field) {
		return m
	}
	if m == nil {
		m = make(map[string]string, 4)
	}
	for first := true; l.more('}', &first); {
		k := l.in.string(l.key())
		m[k] = l.str("", field) // a null value is "", not the old one
	}
	return m
}

// rawValue skips the next value and returns its text, nil after an error.
func (l *lexer) rawValue() []byte {
	start := l.pos
	l.skip()
	if l.err != nil {
		return nil
	}
	return l.b[start:l.pos]
}

// sharedStringMap is stringMap for a map no other field has filled yet:
// equal JSON text gives the one map the interner keeps, which is then
// read-only. A map already there (a duplicate key) is copied before more
// keys are added to it.
func (l *lexer) sharedStringMap(m map[string]string, field string) map[string]string {
	if m != nil {
		return l.stringMap(maps.Clone(m), field)
	}
	if l.in == nil || l.peek() != '{' {
		return l.stringMap(nil, field)
	}
	start := l.pos
	raw := l.rawValue()
	if raw == nil {
		return nil
	}
	if v, ok := l.in.maps.get(raw); ok {
		return v
	}
	l.pos = start
	m = l.stringMap(nil, field)
	if l.err == nil {
		l.in.maps.put(raw, m)
	}
	return m
}

// stringSlice reads an array of strings: null gives nil, [] an empty
// slice that is not nil.
func (l *lexer) stringSlice(old []string, field string) []string {
	if l.peek() == 'n' {
		l.literal("null")
		return nil
	}
	if !l.open('[', field) {
		return old
	}
	if l.peek() == ']' {
		l.pos++
		return emptyStrings[:0:0] // not nil, as encoding/json gives for []
	}
	out := make([]string, 0, 4)
	for first := true; l.more(']', &first); {
		out = append(out, l.str("", field))
	}
	return out
}
