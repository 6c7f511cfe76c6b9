package decode

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Scalars of the lexer: strings (interned, copied or shared), numbers and
// booleans, each read into a field with encoding/json's rules.

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

// skipStr consumes a string or null that no record keeps, failing on any
// other value as str does.
func (l *lexer) skipStr(field string) {
	switch l.peek() {
	case '"':
		l.strBytes()
	case 'n':
		l.literal("null")
	default:
		l.typeMismatch(field)
	}
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
		i = digits(b, i)
	default:
		l.badNumber(i)
		return
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); b[i-1] == '.' {
			l.badNumber(i)
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := i
		if i = digits(b, i); i == j {
			l.badNumber(i)
			return
		}
	}
	l.pos = i
}

// digits returns the index after the run of ASCII digits that starts at i.
func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// badNumber fails at i, where a number's grammar broke.
func (l *lexer) badNumber(i int) {
	l.pos = i
	l.fail("invalid number")
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
