package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"slices"
	"text/template/parse"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/watch"
)

// queryParsers parse the literal arguments of each data function as the
// function would at run time.
var queryParsers = map[string]func(args []string) error{
	"service": withFilter("service", func(a []string) error { _, err := watch.ParseService(a[0], a[1:]...); return err }),
	"connect": withFilter("connect", func(a []string) error { _, err := watch.ParseConnect(a[0], a[1:]...); return err }),
	"services": withFilter("services", func(a []string) error {
		return optionalArg(a, catalogParser(watch.KindCatalogServices))
	}),
	"nodes": withFilter("nodes", func(a []string) error { return optionalArg(a, catalogParser(watch.KindCatalogNodes)) }),
	"query": func(a []string) error { _, err := watch.ParsePreparedQuery(a[0]); return err },
	"node": func(a []string) error {
		return optionalArg(a, func(q string) error { _, err := watch.ParseNode(q); return err })
	},
	"key":          kvParser(watch.KindKVGet),
	"keyExists":    kvParser(watch.KindKVGet),
	"keyOrDefault": kvParser(watch.KindKVGet),
	"ls":           kvParser(watch.KindKVList),
	"safeLs":       kvParser(watch.KindKVList),
	"tree":         kvParser(watch.KindKVList),
	"safeTree":     kvParser(watch.KindKVList),
	"caLeaf":       func(a []string) error { _, err := watch.ParseCALeaf(a[0]); return err },
}

// withFilter takes a "filter=EXPR" argument out of a before check sees
// the others, as service, connect, services and nodes do at run time.
func withFilter(fn string, check func([]string) error) func([]string) error {
	return func(a []string) error {
		rest, _, err := watch.SplitFilter(fn, a)
		if err != nil {
			return err
		}
		if len(rest) == 0 && (fn == "service" || fn == "connect") {
			rest = []string{""}
		}
		return check(rest)
	}
}

func catalogParser(kind watch.Kind) func(string) error {
	return func(q string) error { _, err := watch.ParseCatalog(kind, q); return err }
}

func kvParser(kind watch.Kind) func([]string) error {
	return func(a []string) error { _, err := watch.ParseKV(kind, a[0]); return err }
}

func optionalArg(a []string, parse func(string) error) error {
	if len(a) > 1 {
		return fmt.Errorf("want at most 1 argument, got %d", len(a))
	}
	if len(a) == 0 {
		return parse("")
	}
	return parse(a[0])
}

// checkQueryLiterals parses every query written as a literal in the
// templates (`service "web|sick"`) and returns an error, with file:line:col,
// for each that the function would refuse when the template runs. A
// template that does not parse is left to the template parser's error.
func checkQueryLiterals(cfg config.Config) []error {
	var errs []error
	for i, tc := range cfg.Templates {
		name, text := "inline", tc.Contents
		if tc.Source != "" {
			b, err := os.ReadFile(tc.Source)
			if err != nil {
				continue // BuildTemplates reports it
			}
			name, text = tc.Source, string(b)
		}
		opts, err := cfg.LanguageOptions(tc)
		if err != nil {
			continue
		}
		tree := parse.New(name)
		tree.Mode = parse.SkipFuncCheck
		set := map[string]*parse.Tree{}
		if _, err := tree.Parse(text, opts.LeftDelim, opts.RightDelim, set); err != nil {
			continue
		}
		set[name] = tree
		for _, k := range slices.Sorted(maps.Keys(set)) {
			walkNodes(set[k].Root, func(n parse.Node) {
				if err := cmp.Or(literalQuery(set[k], n), undefinedTemplate(set, set[k], n)); err != nil {
					errs = append(errs, inlineAt(err, i, tc))
				}
			})
		}
	}
	return errs
}

// literalQuery checks a command calling a data function with only literal
// string arguments.
func literalQuery(tree *parse.Tree, n parse.Node) error {
	cmd, ok := n.(*parse.CommandNode)
	if !ok || len(cmd.Args) == 0 {
		return nil
	}
	id, ok := cmd.Args[0].(*parse.IdentifierNode)
	if !ok {
		return nil
	}
	check := queryParsers[id.Ident]
	if check == nil {
		return nil
	}
	var args []string
	for _, a := range cmd.Args[1:] {
		s, ok := a.(*parse.StringNode)
		if !ok {
			return nil // computed at run time
		}
		args = append(args, s.Text)
	}
	if len(args) == 0 && id.Ident != "services" && id.Ident != "nodes" && id.Ident != "node" {
		return nil
	}
	if err := check(args); err != nil {
		loc, _ := tree.ErrorContext(cmd)
		return fmt.Errorf("%s: %s: %w", loc, id.Ident, err)
	}
	return nil
}

// undefinedTemplate checks that a {{template "name"}} names a template the
// file defines: text/template says so only when it runs.
func undefinedTemplate(set map[string]*parse.Tree, tree *parse.Tree, n parse.Node) error {
	tn, ok := n.(*parse.TemplateNode)
	if !ok || set[tn.Name] != nil {
		return nil
	}
	loc, _ := tree.ErrorContext(tn)
	return fmt.Errorf("%s: template %q is not defined in this file", loc, tn.Name)
}

// walkNodes calls fn on every node below n.
func walkNodes(n parse.Node, fn func(parse.Node)) {
	if n == nil {
		return
	}
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n != nil {
			for _, c := range n.Nodes {
				walkNodes(c, fn)
			}
		}
	case *parse.ActionNode:
		walkNodes(n.Pipe, fn)
	case *parse.PipeNode:
		if n != nil {
			for _, c := range n.Cmds {
				walkNodes(c, fn)
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walkNodes(a, fn)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		walkNodes(n.Pipe, fn)
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walkNodes(b.Pipe, fn)
	walkNodes(b.List, fn)
	walkNodes(b.ElseList, fn)
}
