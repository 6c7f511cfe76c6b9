package consul

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
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
	in      *interner // nil: strings are copied
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

// emptyStrings is the one empty, non-nil list every [] reads as.
var emptyStrings = []string{}

// strAs reads a string that is seldom repeated, so it is copied rather
// than interned, except that a string equal to same (an instance's ID named
// again by its check) is same.
func (l *lexer) strAs(old, same, field string) string {
	if l.peek() != '"' {
		return l.str(old, field)
	}
	b := l.strBytes()
	switch {
	case l.err != nil:
		return old
	case same != "" && bytesString(b) == same:
		return same
	}
	return string(b)
}

// str reads a string; null leaves old, another type is an error.
func (l *lexer) str(old string, field string) string {
	switch l.peek() {
	case '"':
		b := l.strBytes()
		if l.err != nil {
			return old
		}
		return l.in.string(b)
	case 'n':
		l.literal("null")
	default:
		l.typeMismatch(field)
	}
	return old
}

func (l *lexer) typeMismatch(field string) {
	if l.peek() == 0 {
		l.fail("unexpected end")
		return
	}
	l.failType(field)
	l.skip()
}

// strBytes reads a string and returns its unescaped bytes, which alias
// the input or the scratch buffer.
func (l *lexer) strBytes() []byte {
	start := l.pos + 1
	for i := plainRun(l.b, start); i < len(l.b); i++ {
		switch c := l.b[i]; {
		case c == '"':
			l.pos = i + 1
			return l.b[start:i]
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(l.b[i:])
			if r == utf8.RuneError && size == 1 {
				return l.slowStr(start, i)
			}
			i += size - 1
		case c == '\\':
			return l.slowStr(start, i)
		case c < 0x20:
			l.pos = i
			l.fail("control character in string")
			return nil
		}
	}
	l.pos = len(l.b)
	l.fail("unterminated string")
	return nil
}

// plainRun returns the offset, from i on, of the first byte of b that may
// need a closer look in a string: a quote, a backslash, a control
// character or a non-ASCII byte; it tests eight bytes at a time and stops
// before the last eight.
func plainRun(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q, bs := w^(ones*'"'), w^(ones*'\\')
		// A byte is flagged when it is zero after the xor (quote or
		// backslash), below 0x20, or has its high bit set. The lowest
		// flagged byte is exact; bytes above it may be false alarms,
		// which the byte loop sorts out.
		special := ((q - ones) &^ q) | ((bs - ones) &^ bs) | ((w - ones*0x20) &^ w) | w
		if special&highs != 0 {
			return i + bits.TrailingZeros64(special&highs)/8
		}
	}
	return i
}

// slowStr unescapes a string from i on, the bytes start:i being plain.
func (l *lexer) slowStr(start, i int) []byte {
	out := append(l.scratch[:0], l.b[start:i]...)
	defer func() { l.scratch = out[:0] }()
	for i < len(l.b) {
		c := l.b[i]
		switch {
		case c == '"':
			l.pos = i + 1
			return out
		case c < 0x20:
			l.pos = i
			l.fail("control character in string")
			return nil
		case c < utf8.RuneSelf && c != '\\':
			out = append(out, c)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(l.b[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
			} else {
				out = append(out, l.b[i:i+size]...)
			}
			i += size
		default:
			n := l.escape(&out, i)
			if n == 0 {
				l.pos = i
				l.fail("invalid escape")
				return nil
			}
			i += n
		}
	}
	l.pos = len(l.b)
	l.fail("unterminated string")
	return nil
}

// escape appends the escape sequence at b[i] (a backslash) to out and
// returns its length, 0 when it is invalid.
func (l *lexer) escape(out *[]byte, i int) int {
	if i+1 >= len(l.b) {
		return 0
	}
	switch c := l.b[i+1]; c {
	case '"', '\\', '/':
		*out = append(*out, c)
	case 'b':
		*out = append(*out, '\b')
	case 'f':
		*out = append(*out, '\f')
	case 'n':
		*out = append(*out, '\n')
	case 'r':
		*out = append(*out, '\r')
	case 't':
		*out = append(*out, '\t')
	case 'u':
		r := hex4(l.b[i+2:])
		if r < 0 {
			return 0
		}
		if utf16.IsSurrogate(r) {
			if i+7 < len(l.b) && l.b[i+6] == '\\' && l.b[i+7] == 'u' {
				if r2 := hex4(l.b[i+8:]); r2 >= 0 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						*out = utf8.AppendRune(*out, d)
						return 12
					}
				}
			}
			r = utf8.RuneError
		}
		*out = utf8.AppendRune(*out, r)
		return 6
	default:
		return 0
	}
	return 2
}

// hex4 decodes four hex digits, -1 when they are not.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// number returns the bytes of a number literal, nil (and the error or the
// null consumed) otherwise.
func (l *lexer) number(field string) []byte {
	c := l.peek()
	if c == 'n' {
		l.literal("null")
		return nil
	}
	if c != '-' && (c < '0' || c > '9') {
		l.typeMismatch(field)
		return nil
	}
	start := l.pos
	l.scanNumber()
	return l.b[start:l.pos]
}

// scanNumber consumes a number with the JSON grammar.
func (l *lexer) scanNumber() {
	b, i := l.b, l.pos
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		l.pos = i
		l.fail("invalid number")
		return
	}
	if i < len(b) && b[i] == '.' {
		i++
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			l.pos = i
			l.fail("invalid number")
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == j {
			l.pos = i
			l.fail("invalid number")
			return
		}
	}
	l.pos = i
}

// int reads an integer into an int field; null leaves old.
func (l *lexer) int(old int, field string) int {
	b := l.number(field)
	if b == nil || l.err != nil {
		return old
	}
	v, err := strconv.ParseInt(unsafe.String(&b[0], len(b)), 10, strconv.IntSize)
	if err != nil {
		l.failType(field)
		return old
	}
	return int(v)
}

// uint reads an unsigned integer; null leaves old.
func (l *lexer) uint(old uint64, field string) uint64 {
	b := l.number(field)
	if b == nil || l.err != nil {
		return old
	}
	v, err := strconv.ParseUint(unsafe.String(&b[0], len(b)), 10, 64)
	if err != nil {
		l.failType(field)
		return old
	}
	return v
}

// bool reads true or false; null leaves old.
func (l *lexer) bool(old bool, field string) bool {
	switch l.peek() {
	case 't':
		l.literal("true")
		return l.err == nil || old
	case 'f':
		l.literal("false")
		return l.err != nil && old
	case 'n':
		l.literal("null")
	default:
		l.typeMismatch(field)
	}
	return old
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
