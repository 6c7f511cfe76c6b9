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
func newParseError(name, text, leftDelim string, err error, denied map[string]string) error {
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
	msg = explainUnsupported(msg, denied)
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

// explainUnsupported says why a function is denied, or says so when an undefined function is one of
// consul-template's Vault or Nomad functions, which ctpl does not offer.
func explainUnsupported(msg string, denied map[string]string) string {
	m := undefinedRe.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	if why, ok := denied[m[1]]; ok {
		return fmt.Sprintf("function %q is denied: %s", m[1], why)
	}
	switch fn := m[1]; {
	case fn == "secret" || fn == "secrets" || fn == "pkiCert":
		return msg + ": it is a Vault function, which ctpl does not support"
	case strings.HasPrefix(fn, "nomad"):
		return msg + ": it is a Nomad function, which ctpl does not support"
	case fn == "exportedServices" || fn == "partitions" || fn == "peerings" || strings.HasPrefix(fn, "spew_"):
		return msg + ": it is a consul-template function that ctpl does not offer"
	}
	return msg
}

// ExecError is a template that failed while executing, with the place of
// the action that failed.
type ExecError struct {
	File      string
	Line, Col int
	// Func is the function whose call failed, if a function failed.
	Func string
	// Action is the failing action as written, such as `service .Name`.
	Action string
	Err    error // what text/template returned
	msg    string
}

// Error returns "file:line:col: action: message".
func (e *ExecError) Error() string {
	if e.Action == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Action, e.msg)
}

// Unwrap returns the underlying error.
func (e *ExecError) Unwrap() error { return e.Err }

var execRe = regexp.MustCompile(`(?s)\Atemplate: (.*?):(\d+):(\d+): executing "(?:[^"]*)" at <(.*?)>: (.*)\z`)
var callingRe = regexp.MustCompile(`\Aerror calling ([[:word:]]+): `)

// newExecError turns text/template's "template: name:line:col: executing
// ... at <action>: error calling fn: msg" into an ExecError.
func newExecError(name string, err error) error {
	m := execRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &ExecError{File: name, Line: 1, Col: 1, Err: err, msg: err.Error()}
	}
	line, _ := strconv.Atoi(m[2])
	col, _ := strconv.Atoi(m[3])
	e := &ExecError{File: m[1], Line: line, Col: col, Action: m[4], Err: err, msg: m[5]}
	if c := callingRe.FindStringSubmatch(m[5]); c != nil {
		e.Func, e.msg = c[1], strings.TrimPrefix(m[5], c[0])
	}
	return e
}
