package config

import (
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

func ctObject(list *ast.ObjectList, line int) (*ctNode, error) {
	n := &ctNode{line: line}
	for _, item := range list.Items {
		if len(item.Keys) == 0 {
			continue
		}
		val, err := ctValue(item.Val)
		if err != nil {
			return nil, err
		}
		// `a "b" { … }` is `a { b { … } }`.
		for i := len(item.Keys) - 1; i > 0; i-- {
			k := item.Keys[i]
			val = &ctNode{line: k.Pos().Line, fields: []ctField{{key: keyText(k), line: k.Pos().Line, val: val}}}
		}
		k := item.Keys[0]
		n.fields = append(n.fields, ctField{key: keyText(k), line: k.Pos().Line, val: val})
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

func ctValue(v ast.Node) (*ctNode, error) {
	switch v := v.(type) {
	case *ast.ObjectType:
		return ctObject(v.List, v.Lbrace.Line)
	case *ast.ListType:
		n := &ctNode{line: v.Lbrack.Line, isList: true}
		for _, e := range v.List {
			c, err := ctValue(e)
			if err != nil {
				return nil, err
			}
			n.list = append(n.list, c)
		}
		return n, nil
	case *ast.LiteralType:
		s, err := literal(v.Token)
		if err != nil {
			return nil, fmt.Errorf("%d:%d: %w", v.Token.Pos.Line, v.Token.Pos.Column, err)
		}
		return &ctNode{line: v.Token.Pos.Line, scalar: s}, nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
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
