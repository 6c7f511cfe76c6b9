package template

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
)

// Incremental execution.
//
// At parse time, every `range` of the main template whose body is
// self-contained becomes a fragment: the body assigns no variable declared
// outside it and does not read $, cannot break out of the range, has no
// else branch and calls no function whose result depends on anything but
// its arguments and the data it reads (see unsafeFuncs). The output of such
// an iteration is then a function of the element, of its position when the
// range declares an index variable, of the values of the outer variables
// it reads (captured when the range starts) and of the values of the
// queries it read; nothing it does is seen by later iterations.
//
// A copy of the template, with each fragment's range replaced by a call to
// fragFunc that receives the range's list, is what incremental execution
// runs; the body runs on its own, one element at a time, through a wrapper
// template `{{range $i, $e := .}}BODY{{end}}` given a one-element list.
// Each iteration's output is cached with the element, the outer variables
// and the version of every query it read; an iteration whose element and
// variables are equal and whose queries have the same versions reuses its
// output. Any error makes
// Execute run the original template in full, so errors are those of a full
// render.

// fragFunc is the hidden function a fragment's range becomes; templates
// cannot call it: it is not in the function map they are parsed with.
const fragFunc = "ctplFragment_"

// varFunc is the hidden function that gives the wrapper of a fragment the
// values of the variables its body reads from outside the range.
const varFunc = "ctplVar_"

// unsafeFuncs are the functions whose result may depend on something other
// than their arguments and the data they read, or that act on the
// execution or the host: a range calling one is never a fragment.
var unsafeFuncs = map[string]bool{
	"scratch":     true, // shared by every iteration
	"plugin":      true, // runs a command
	"writeToFile": true, // writes a file
	"timestamp":   true, // reads the clock
	"sockaddr":    true, // reads the host's interfaces
}

// incremental is a template prepared for incremental execution.
type incremental struct {
	main  *template.Template // the rewritten main template, in a clone of the set
	frags []*fragment
	buf   bytes.Buffer // where an iteration writes; fragments never nest
	data  Data         // what the caches were filled from
}

// fragment is a range whose iterations are cached.
type fragment struct {
	wrapper *template.Template // {{range DECL .}}BODY{{end}}
	indexed bool               // the body may read the element's position
	cache   map[iterKey]*iteration
	order   []*iteration // the iterations of the last call, in order
	live    int          // iterations used by the execution running
	fast    fastState    // for the next call, from the change log
}

// prepareIncremental returns t prepared for incremental execution, or nil
// when no range of it qualifies.
func (t *Template) prepareIncremental() (*incremental, error) {
	set := make(map[string]*parse.Tree)
	for _, d := range t.tmpl.Templates() {
		if d.Tree != nil {
			set[d.Name()] = d.Tree
		}
	}
	c := &checker{set: set, memo: make(map[string]bool), unsafe: unsafeFuncs}
	if t.opts.SandboxPath != "" {
		// file checks the sandbox at every call: a symlink changed to
		// point outside must fail the next render even if the content is
		// the same.
		c.unsafe = maps.Clone(unsafeFuncs)
		c.unsafe["file"] = true
	}
	c.setSafe = true // what executeTemplate may run: any template of the file
	for name := range set {
		if !c.templateSafe(name) {
			c.setSafe = false
		}
	}
	if !c.setSafe {
		c.memo = make(map[string]bool) // judged with executeTemplate safe
	}
	tree := t.tmpl.Tree.Copy()
	var ranges []*parse.RangeNode
	replace := func(r *parse.RangeNode) parse.Node {
		ranges = append(ranges, r)
		return nil
	}
	// Collect first, then build the nodes: the action needs the index.
	c.rewrite(tree.Root, replace)
	if len(ranges) == 0 {
		return nil, nil
	}
	inc := &incremental{}
	clone, err := t.tmpl.Clone()
	if err != nil {
		return nil, fmt.Errorf("incremental: %w", err)
	}
	clone.Funcs(template.FuncMap{fragFunc: t.fragment, varFunc: t.fragmentVar})
	actions := make(map[*parse.RangeNode]parse.Node, len(ranges))
	for i, r := range ranges {
		_, captured := c.isFragment(r)
		f, action, err := newFragment(clone, i, r, captured)
		if err != nil {
			return nil, err
		}
		inc.frags = append(inc.frags, f)
		actions[r] = action
	}
	c.rewrite(tree.Root, func(r *parse.RangeNode) parse.Node { return actions[r] })
	if inc.main, err = clone.AddParseTree(t.tmpl.Name(), tree); err != nil {
		return nil, fmt.Errorf("incremental: %w", err)
	}
	return inc, nil
}

// newFragment builds the wrapper template of range r, the i-th fragment,
// and the action that replaces r: {{fragFunc i PIPELINE $captured...}},
// its wrapper then being {{$captured := varFunc 0}}...{{range DECL .}}BODY{{end}}.
func newFragment(set *template.Template, i int, r *parse.RangeNode, captured []string) (*fragment, parse.Node, error) {
	names := make([]string, len(r.Pipe.Decl))
	for j, v := range r.Pipe.Decl {
		names[j] = v.Ident[0]
	}
	head := "{{range ."
	if len(names) > 0 {
		head = "{{range " + strings.Join(names, ", ") + " := ."
	}
	name := fmt.Sprintf("%s\u00b7fragment%d", set.Name(), i)
	var decls, refs strings.Builder
	for k, v := range captured {
		fmt.Fprintf(&decls, "{{%s := %s %d}}", v, varFunc, k)
		refs.WriteString(" " + v)
	}
	hidden := template.FuncMap{fragFunc: func(int, any) string { return "" }, varFunc: func(int) string { return "" }}
	w, err := template.New(name).Funcs(hidden).Parse(decls.String() + head + "}}{{end}}")
	if err != nil {
		return nil, nil, fmt.Errorf("incremental: fragment %d: %w", i, err)
	}
	w.Tree.Root.Nodes[len(captured)].(*parse.RangeNode).List = r.List
	wrapper, err := set.AddParseTree(name, w.Tree)
	if err != nil {
		return nil, nil, fmt.Errorf("incremental: fragment %d: %w", i, err)
	}
	a, err := template.New("a").Funcs(hidden).
		Parse(fmt.Sprintf("%s{{%s %d 0%s}}", decls.String(), fragFunc, i, refs.String()))
	if err != nil {
		return nil, nil, fmt.Errorf("incremental: fragment %d: %w", i, err)
	}
	action := a.Tree.Root.Nodes[len(captured)].(*parse.ActionNode)
	action.Pipe.Cmds[0].Args[2] = &parse.PipeNode{NodeType: parse.NodePipe, Pos: r.Pipe.Pos, Line: r.Pipe.Line, Cmds: r.Pipe.Cmds}
	f := &fragment{wrapper: wrapper, indexed: len(names) == 2, cache: make(map[iterKey]*iteration)}
	return f, action, nil
}

// checker decides which ranges are fragments.
type checker struct {
	set      map[string]*parse.Tree // the templates of the file, by name
	unsafe   map[string]bool        // the functions a fragment may not call
	memo     map[string]bool        // templateSafe's answers
	setSafe  bool                   // no template of the file calls an unsafe function
	captured []string               // the outer variables the range being checked reads
}

// rewrite walks list and replaces each range that is a fragment, without
// descending into it, by what replace returns (nothing when nil).
func (c *checker) rewrite(list *parse.ListNode, replace func(*parse.RangeNode) parse.Node) {
	if list == nil {
		return
	}
	for i, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.RangeNode:
			if ok, _ := c.isFragment(n); ok {
				if a := replace(n); a != nil {
					list.Nodes[i] = a
				}
				continue
			}
			c.rewrite(n.List, replace)
			c.rewrite(n.ElseList, replace)
		case *parse.IfNode:
			c.rewrite(n.List, replace)
			c.rewrite(n.ElseList, replace)
		case *parse.WithNode:
			c.rewrite(n.List, replace)
			c.rewrite(n.ElseList, replace)
		}
	}
}

// isFragment reports whether r's iterations may be cached, and which
// variables declared outside it the body reads (never assigns).
func (c *checker) isFragment(r *parse.RangeNode) (bool, []string) {
	if r.ElseList != nil || r.Pipe.IsAssign || len(r.Pipe.Decl) > 2 {
		return false, nil
	}
	scope := make([]string, 0, 8)
	for _, v := range r.Pipe.Decl {
		scope = append(scope, v.Ident[0])
	}
	c.captured = nil
	ok := c.list(r.List, &scope, 0)
	return ok, c.captured
}

// list reports whether the nodes of l are safe, with scope the variables
// declared inside the fragment and visible here, and loops the depth of
// ranges inside the fragment's body.
func (c *checker) list(l *parse.ListNode, scope *[]string, loops int) bool {
	if l == nil {
		return true
	}
	for _, n := range l.Nodes {
		if !c.node(n, scope, loops) {
			return false
		}
	}
	return true
}

func (c *checker) node(n parse.Node, scope *[]string, loops int) bool {
	switch n := n.(type) {
	case *parse.TextNode, *parse.CommentNode:
		return true
	case *parse.ActionNode:
		return c.pipe(n.Pipe, scope)
	case *parse.IfNode:
		return c.branch(&n.BranchNode, scope, loops, loops)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, scope, loops, loops)
	case *parse.RangeNode:
		return c.branch(&n.BranchNode, scope, loops+1, loops)
	case *parse.ContinueNode:
		return true // ends only the iteration, run on its own or not
	case *parse.BreakNode:
		return loops > 0
	case *parse.TemplateNode:
		if n.Pipe != nil && !c.pipe(n.Pipe, scope) {
			return false
		}
		return c.templateSafe(n.Name)
	}
	return false
}

// branch checks an if, with or range: its pipeline's variables are
// visible in both lists, those declared in the first list are not in the
// second.
func (c *checker) branch(b *parse.BranchNode, scope *[]string, listLoops, elseLoops int) bool {
	inner := slices.Clip(*scope)
	if !c.pipe(b.Pipe, &inner) {
		return false
	}
	withDecl := slices.Clip(inner)
	if !c.list(b.List, &inner, listLoops) {
		return false
	}
	return c.list(b.ElseList, &withDecl, elseLoops)
}

// pipe checks a pipeline, then declares its variables in scope.
func (c *checker) pipe(p *parse.PipeNode, scope *[]string) bool {
	if p == nil {
		return true
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			if !c.arg(arg, scope) {
				return false
			}
		}
	}
	for _, v := range p.Decl {
		if p.IsAssign {
			if !slices.Contains(*scope, v.Ident[0]) {
				return false // assigns a variable of the enclosing template
			}
			continue
		}
		*scope = append(*scope, v.Ident[0])
	}
	return true
}

func (c *checker) arg(n parse.Node, scope *[]string) bool {
	switch n := n.(type) {
	case *parse.IdentifierNode:
		if n.Ident == "executeTemplate" {
			return c.setSafe
		}
		return !c.unsafe[n.Ident]
	case *parse.VariableNode:
		name := n.Ident[0]
		if name != "$" && !slices.Contains(*scope, name) && !slices.Contains(c.captured, name) {
			c.captured = append(c.captured, name)
		}
		return name != "$"
	case *parse.ChainNode:
		return c.arg(n.Node, scope)
	case *parse.PipeNode:
		return c.pipe(n, scope)
	case *parse.DotNode, *parse.FieldNode, *parse.NilNode, *parse.BoolNode,
		*parse.NumberNode, *parse.StringNode:
		return true
	}
	return false
}

// templateSafe reports whether the template called name, and those it
// calls, call no unsafe function. A template runs in a scope of its own,
// so its variables need no check. Recursion counts as safe while in
// progress; the result is decided by the other paths.
func (c *checker) templateSafe(name string) bool {
	if ok, seen := c.memo[name]; seen {
		return ok
	}
	tree := c.set[name]
	if tree == nil {
		return true // executing it fails, in a full render too
	}
	c.memo[name] = true
	ok := c.funcsSafe(tree.Root)
	c.memo[name] = ok
	return ok
}

// funcsSafe reports whether n calls no unsafe function, directly or through
// the templates it calls. executeTemplate is judged by the caller.
func (c *checker) funcsSafe(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, x := range n.Nodes {
			if !c.funcsSafe(x) {
				return false
			}
		}
	case *parse.ActionNode:
		return c.funcsSafe(n.Pipe)
	case *parse.IfNode:
		return c.funcsSafe(n.Pipe) && c.funcsSafe(n.List) && c.funcsSafe(n.ElseList)
	case *parse.WithNode:
		return c.funcsSafe(n.Pipe) && c.funcsSafe(n.List) && c.funcsSafe(n.ElseList)
	case *parse.RangeNode:
		return c.funcsSafe(n.Pipe) && c.funcsSafe(n.List) && c.funcsSafe(n.ElseList)
	case *parse.TemplateNode:
		return c.funcsSafe(n.Pipe) && c.templateSafe(n.Name)
	case *parse.PipeNode:
		if n == nil {
			return true
		}
		for _, cmd := range n.Cmds {
			for _, a := range cmd.Args {
				if !c.funcsSafe(a) {
					return false
				}
			}
		}
	case *parse.ChainNode:
		return c.funcsSafe(n.Node)
	case *parse.IdentifierNode:
		if n.Ident == "executeTemplate" {
			return c.setSafe
		}
		return !c.unsafe[n.Ident]
	}
	return true
}
