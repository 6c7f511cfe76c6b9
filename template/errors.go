package template

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseError is a template that does not parse, with the place of the fault.
type ParseError struct {
	File      string
	Line, Col int
	Msg       string
	Err       error // the error text/template returned
}

// Error returns "file:line:col: message".
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Unwrap returns the underlying text/template error.
func (e *ParseError) Unwrap() error { return e.Err }

var quotedRe = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// newParseError turns text/template's "template: name:line: msg" into a
// ParseError, finding the column from the token the message quotes, else
// from the first action on the line.
func newParseError(name, text, leftDelim string, err error) error {
	rest, ok := strings.CutPrefix(err.Error(), "template: "+name+":")
	if !ok {
		return &ParseError{File: name, Line: 1, Col: 1, Msg: err.Error(), Err: err}
	}
	lineStr, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		return &ParseError{File: name, Line: 1, Col: 1, Msg: rest, Err: err}
	}
	if l, c, two := strings.Cut(lineStr, ":"); two {
		lineStr = l
		if col, cerr := strconv.Atoi(c); cerr == nil {
			line, _ := strconv.Atoi(lineStr)
			return &ParseError{File: name, Line: line, Col: col, Msg: msg, Err: err}
		}
	}
	line, aerr := strconv.Atoi(lineStr)
	if aerr != nil {
		return &ParseError{File: name, Line: 1, Col: 1, Msg: rest, Err: err}
	}
	msg = explainUnsupported(msg)
	return &ParseError{File: name, Line: line, Col: column(text, line, msg, leftDelim), Msg: msg, Err: err}
}

// column guesses the 1-based column of the fault on line.
func column(text string, line int, msg, leftDelim string) int {
	lines := strings.Split(text, "\n")
	if line < 1 || line > len(lines) {
		return 1
	}
	src := lines[line-1]
	if leftDelim == "" {
		leftDelim = "{{"
	}
	if q := quotedRe.FindString(msg); q != "" {
		if tok, err := strconv.Unquote(q); err == nil && tok != "" {
			action := max(strings.Index(src, leftDelim), 0)
			if i := strings.Index(src[action:], tok); i >= 0 {
				return utf8.RuneCountInString(src[:action+i]) + 1
			}
		}
	}
	if i := strings.Index(src, leftDelim); i >= 0 {
		return utf8.RuneCountInString(src[:i]) + 1
	}
	return 1
}

var undefinedRe = regexp.MustCompile(`^function "([^"]+)" not defined$`)

// explainUnsupported says so when an undefined function is one of
// consul-template's Vault or Nomad functions, which ctpl does not offer.
func explainUnsupported(msg string) string {
	m := undefinedRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	switch fn := m[1]; {
	case fn == "secret" || fn == "secrets" || fn == "pkiCert":
		return msg + ": it is a Vault function, which ctpl does not support"
	case strings.HasPrefix(fn, "nomad"):
		return msg + ": it is a Nomad function, which ctpl does not support"
	}
	return msg
}
