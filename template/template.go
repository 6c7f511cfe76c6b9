package template

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// Data is what a template reads query results from.
type Data interface {
	// Get returns the value of the query whose canonical string is key and
	// whether one has arrived.
	Get(key string) (any, bool)
}

// Options tune how a template is parsed and executed.
type Options struct {
	// LeftDelim and RightDelim replace "{{" and "}}".
	LeftDelim, RightDelim string
	// ErrOnMissingKey makes a missing map key an error. Without it a missing
	// key yields the map's zero value, as consul-template does
	// (missingkey=zero): "" for map[string]string, "<no value>" for an
	// interface element.
	ErrOnMissingKey bool
	// Getenv reads environment variables for env (default os.Getenv).
	Getenv func(string) string
	// SandboxPath, when set, confines `file` to paths that resolve, after
	// following every symlink, inside this directory.
	SandboxPath string
	// Denylist names functions a template may not call; each entry is a
	// glob as in path.Match ("sprig_*"). A template calling one does not
	// parse.
	Denylist []string
	// Allow enables the functions that are off by default because they act
	// on the host: "plugin" (runs a command) and "writeToFile".
	Allow []string
	// NoIncremental makes every execution run the whole template. By
	// default a range whose iterations are self-contained reuses the output
	// of iterations whose element and queries did not change, when the Data
	// is a [watch.Store] (see incremental.go).
	NoIncremental bool
	// Inert makes the functions that act on the host (plugin, writeToFile)
	// do nothing, for `ctpl plan`, which must neither write nor run
	// anything: plugin returns "".
	Inert bool
	// MaxOutput bounds an execution's output in bytes (0:
	// [DefaultMaxOutput]); an execution whose output would pass it fails
	// with [ErrLimit] at its next write.
	MaxOutput int
	// MaxRenderTime bounds an execution's time (0: [DefaultMaxRenderTime]);
	// past it the execution fails with [ErrLimit] at its next write, loop
	// step or executeTemplate.
	MaxRenderTime time.Duration
}

// OptIn lists the functions that exist but are denied unless
// [Options.Allow] names them.
var OptIn = []string{"plugin", "writeToFile"}

// Template is a parsed template.
type Template struct {
	name string
	tmpl *template.Template
	opts Options

	mu                sync.Mutex
	run               *execution              // the execution in progress, read by the data functions
	specs             map[specKey]*specResult // parsed query arguments, by function and arguments
	out               bytes.Buffer            // where executions write; the Result gets a copy
	used, missing     map[string]*watch.Spec  // the execution's, reused
	mapsLen, mapsPeak int                     // their size after the last execution, and the most since made
	outSize           int                     // the last output's size; 0: none yet
	missingKeys       []string                // the sorted keys of the last Missing
	sig               usedSig                 // what the last Used was made of
	usedKeys          []string                // the sorted keys of the last execution's used queries
	usedSpecs         []watch.Spec            // the last execution's Used, shared with its Result
	executed          bool                    // whether an execution returned a Result
	inc               *incremental            // nil: always execute in full
	gen               uint64                  // counts incremental executions
	reused, ran       uint64                  // fragment iterations reused and executed
	fastCalls         uint64                  // fragment calls from the change log
	usedBuilt         uint64                  // executions that listed their used queries
}

// specKey identifies a data function's call by its arguments.
type specKey struct {
	fn, args string
}

type specResult struct {
	spec watch.Spec
	key  string
	err  error
}

// execution is the state of one Execute call.
type execution struct {
	data    Data
	used    map[string]*watch.Spec
	missing map[string]*watch.Spec
	scratch *scratchpad     // what `scratch` returns, created on first use
	out     *bytes.Buffer   // the output, where fragments write
	ver     versioner       // set in an incremental execution
	log     changeLog       // the Data's change log, when it has one
	seq     uint64          // the change log's Seq when the execution started
	fast    []*fragment     // the fragments that ran from their change log
	fastRun bool            // an iteration of a fragment called from its change log runs
	entries entryStore      // the Data's entries, when it gives them
	rec     *recorder       // the reads of the fragment iteration running
	vars    []reflect.Value // the outer variables of the fragment running
	guard   *guard          // stops the execution at a limit
	depth   int             // how deep executeTemplate calls nest now
}

// Result is what one execution produced.
type Result struct {
	// Output is the rendered text.
	Output []byte
	// Used lists every query the template asked for, sorted by key. It is
	// read-only: it may share its backing array with the Used of earlier
	// and later Results of the same Template.
	Used []watch.Spec
	// UsedChanged is true when Used differs from the Used of the previous
	// execution of the same Template, and on its first execution. When it
	// is false, Used holds the same queries as last time.
	UsedChanged bool
	// Missing lists the used queries that have no data yet. Output must not
	// be written while any is missing.
	Missing []watch.Spec
}

// Complete reports whether every query the template used had data.
func (r *Result) Complete() bool { return len(r.Missing) == 0 }

// Parse parses text as the template called name (usually its file path,
// which errors then name).
func Parse(name, text string, opts Options) (*Template, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	for _, name := range opts.Allow {
		if !slices.Contains(OptIn, name) {
			return nil, fmt.Errorf("allow_functions: %q cannot be allowed: only %s are off by default", name, strings.Join(OptIn, " and "))
		}
	}
	for _, g := range opts.Denylist {
		if _, err := path.Match(g, ""); err != nil {
			return nil, fmt.Errorf("function_denylist %q: %w", g, err)
		}
	}
	t := &Template{name: name, opts: opts, specs: make(map[specKey]*specResult)}
	funcs, denied := t.allowedFuncs()
	tmpl := template.New(name).Delims(opts.LeftDelim, opts.RightDelim).Funcs(funcs)
	if opts.ErrOnMissingKey {
		tmpl = tmpl.Option("missingkey=error")
	} else {
		tmpl = tmpl.Option("missingkey=zero")
	}
	parsed, err := tmpl.Parse(text)
	if err != nil {
		return nil, newParseError(name, text, opts.LeftDelim, err, denied)
	}
	t.tmpl = parsed
	if !opts.NoIncremental {
		if inc, err := t.prepareIncremental(); err == nil {
			t.inc = inc // on error, full executions only
		}
	}
	return t, nil
}

// ParseFile reads and parses the template in path.
func ParseFile(path string, opts Options) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return Parse(path, string(b), opts)
}

// Name returns the name the template was parsed with.
func (t *Template) Name() string { return t.name }

// Execute runs the template against data, within the template's limits.
func (t *Template) Execute(data Data) (*Result, error) {
	return t.ExecuteContext(context.Background(), data)
}

// ExecuteContext runs the template against data. An execution that passes
// [Options.MaxOutput] or [Options.MaxRenderTime], nests executeTemplate
// deeper than [MaxExecuteDepth], or outlives ctx is abandoned: it returns
// an error wrapping [ErrLimit] and a Result whose Output must not be used.
func (t *Template) ExecuteContext(ctx context.Context, data Data) (*Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	defer func() { t.run = nil }()
	g, release := newGuard(ctx, t.name, t.opts)
	defer release()
	if ver, ok := data.(versioner); ok && t.inc != nil {
		if res, ok := t.executeIncremental(data, ver, g); ok {
			t.finish(res, t.run)
			return res, nil
		}
		if err := g.check(); err != nil {
			// A limit: running it again in full would only pass it again.
			res := &Result{}
			t.finish(res, t.run)
			return res, err
		}
	}
	res, err := t.execute(t.tmpl, data, nil, g)
	t.finish(res, t.run)
	return res, err
}

// execute runs tmpl, the template or its rewritten copy, against data. The
// Result it returns lacks Used and Missing: [Template.finish] derives them
// from t.run, once Execute knows which execution's Result it returns.
func (t *Template) execute(tmpl *template.Template, data Data, ver versioner, g *guard) (*Result, error) {
	if t.used == nil || t.mapsPeak > 64 && t.mapsPeak > 4*t.mapsLen {
		// Clearing a map costs what it once held: a map that held every
		// query in a full execution is dropped once executions record few.
		t.used, t.missing = make(map[string]*watch.Spec, t.mapsLen), make(map[string]*watch.Spec)
		t.mapsPeak = t.mapsLen
	}
	clear(t.used)
	clear(t.missing)
	t.out.Reset()
	if t.out.Cap() == 0 && t.outSize > 0 {
		t.out.Grow(t.outSize + t.outSize/8)
	}
	t.run = &execution{data: data, used: t.used, missing: t.missing, out: &t.out, ver: ver, guard: g}
	if ver != nil {
		t.run.entries, _ = data.(entryStore)
		if log, ok := data.(changeLog); ok {
			t.run.log, t.run.seq = log, log.Seq()
		}
	}
	err := tmpl.Execute(t.writer(&t.out), nil)
	if lerr := g.check(); lerr != nil {
		// Whatever text/template returned (a write error, a function's
		// error, or nothing when a loop was cut short) comes from the limit.
		// The buffers are dropped: they may have grown to the limit.
		t.out = bytes.Buffer{}
		if t.inc != nil {
			t.inc.buf = bytes.Buffer{}
		}
		return &Result{}, lerr
	}
	res := &Result{}
	if t.outSize == 0 {
		// The first output: the Result takes the buffer, and the next
		// execution makes one of the right size to keep.
		res.Output, t.out = t.out.Bytes(), bytes.Buffer{}
	} else {
		// A copy of exactly the output's size, which needs no zeroing,
		// rather than a buffer grown to a guess.
		res.Output = bytes.Clone(t.out.Bytes())
	}
	t.outSize = len(res.Output)
	if err != nil {
		return res, newExecError(t.name, err)
	}
	return res, nil
}

// sortedUsed returns the used queries sorted by key: the last
// execution's slice when the keys are the same, as they mostly are, and
// whether they differ. Equal keys are equal specs: a key is its spec's
// canonical string.
func (t *Template) sortedUsed(m map[string]*watch.Spec) ([]watch.Spec, bool) {
	same := t.executed && len(m) == len(t.usedKeys)
	for i := 0; same && i < len(t.usedKeys); i++ {
		_, same = m[t.usedKeys[i]]
	}
	t.executed = true
	if same {
		return t.usedSpecs, false
	}
	t.usedKeys = slices.Sorted(maps.Keys(m))
	out := make([]watch.Spec, len(t.usedKeys))
	for i, k := range t.usedKeys {
		out[i] = *m[k]
	}
	t.usedSpecs = out
	return out, true
}

// sortedMissing returns the missing queries sorted by key. While data arrives
// they are mostly the last execution's less a few: then its sorted keys,
// filtered, are the new ones, without sorting again.
func (t *Template) sortedMissing(m map[string]*watch.Spec) []watch.Spec {
	keys := t.missingKeys[:0:0]
	if len(m) > 0 && len(m) <= len(t.missingKeys) {
		keys = make([]string, 0, len(m))
		for _, k := range t.missingKeys {
			if _, ok := m[k]; ok {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) != len(m) {
		keys = slices.Sorted(maps.Keys(m))
	}
	t.missingKeys = keys
	out := make([]watch.Spec, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}

// recall records spec as used and returns its value, recording it as
// missing when none has arrived.
func (t *Template) recall(spec *watch.Spec, key string) (any, bool) {
	r := t.run
	v, ok := r.data.Get(key)
	if !r.fastRun { // else the fragment's index has it
		r.used[key] = spec
		if !ok {
			r.missing[key] = spec
		}
	}
	r.note(spec, key, !ok)
	return v, ok
}

// markMissing records a used query whose data is not usable yet.
func (t *Template) markMissing(spec *watch.Spec, key string) {
	if !t.run.fastRun {
		t.run.missing[key] = spec
	}
	t.run.note(spec, key, true)
}

// spec parses a query argument once per template and caches the result;
// the spec returned is shared and must not be modified.
func (t *Template) spec(fn string, args []string, parse func() (watch.Spec, error)) (*watch.Spec, string, error) {
	k := specKey{fn: fn}
	switch len(args) {
	case 0:
	case 1:
		k.args = args[0] // the common case allocates nothing
	default:
		k.args = strings.Join(args, "\x00")
	}
	if r, ok := t.specs[k]; ok {
		return &r.spec, r.key, r.err
	}
	s, err := parse()
	r := &specResult{spec: s, err: err}
	if err == nil {
		r.key = s.String()
	}
	t.specs[k] = r
	return &r.spec, r.key, r.err
}
