package config

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/hashicorp/hcl/hcl/token"
)

// ctNode is one value of a consul-template configuration, read from HCL or
// JSON: a block (fields), a list or a scalar, with the line it starts on.
type ctNode struct {
	line   int
	fields []ctField // a block's keys in order; a key may repeat
	list   []*ctNode
	scalar any // string, int64, float64 or bool; nil for blocks and lists
	isList bool
}

// ctField is one key of a block.
type ctField struct {
	key  string
	line int
	val  *ctNode
}

func (n *ctNode) isBlock() bool { return n.scalar == nil && !n.isList }

// parseCT reads consul-template's HCL or JSON (the HCL parser reads both,
// as consul-template does).
func parseCT(b []byte) (*ctNode, error) {
	f, err := hcl.ParseBytes(b)
	if err != nil {
		return nil, errors.New(hclMessage(err))
	}
	list, ok := f.Node.(*ast.ObjectList)
	if !ok {
		return nil, errors.New("not a consul-template configuration: want keys at the top level")
	}
	return ctObject(list, 1)
}

// hclMessage turns the parser's "At 3:7: msg" into "3:7: msg".
func hclMessage(err error) string {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, "At "); ok {
		return rest
	}
	return msg
}

// ctObject reads a block; line is where it starts, and stands for the
// lines JSON does not give.
func ctObject(list *ast.ObjectList, line int) (*ctNode, error) {
	n := &ctNode{line: line}
	for _, item := range list.Items {
		if len(item.Keys) == 0 {
			continue
		}
		// JSON's keys have no position; the colon after them has.
		at := cmp.Or(item.Keys[0].Pos().Line, item.Assign.Line, line)
		val, err := ctValue(item.Val, at)
		if err != nil {
			return nil, err
		}
		// `a "b" { … }` is `a { b { … } }`.
		for i := len(item.Keys) - 1; i > 0; i-- {
			k := item.Keys[i]
			kl := cmp.Or(k.Pos().Line, at)
			val = &ctNode{line: kl, fields: []ctField{{key: keyText(k), line: kl, val: val}}}
		}
		n.fields = append(n.fields, ctField{key: keyText(item.Keys[0]), line: at, val: val})
	}
	return n, nil
}

func keyText(k *ast.ObjectKey) string {
	s := k.Token.Text
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// ctValue reads a value; line stands for the position JSON does not give.
func ctValue(v ast.Node, line int) (*ctNode, error) {
	switch v := v.(type) {
	case *ast.ObjectType:
		return ctObject(v.List, cmp.Or(v.Lbrace.Line, line))
	case *ast.ListType:
		n := &ctNode{line: cmp.Or(v.Lbrack.Line, line), isList: true}
		for _, e := range v.List {
			c, err := ctValue(e, n.line)
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, c)
		}
		return n, nil
	case *ast.LiteralType:
		s, err := literal(v.Token)
		if err != nil {
			return nil, fmt.Errorf("%d:%d: %w", cmp.Or(v.Token.Pos.Line, line), v.Token.Pos.Column, err)
		}
		return &ctNode{line: cmp.Or(v.Token.Pos.Line, line), scalar: s}, nil
	}
	return nil, errors.New("not a value")
}

// literal is the token's value; the parser's own conversion panics on
// numbers such as 09.
func literal(t token.Token) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s is not a value", t.Text)
		}
	}()
	return t.Value(), nil
}
