package template

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

func TestCollectionFuncs(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "byTag wrong type", text: `{{ byTag "x" }}`, wantErr: "byTag: wrong argument type string"},
		{name: "byPort wrong type", text: `{{ services | byPort }}`, wantErr: "byPort: wrong argument type []*dependency.CatalogSnippet"},
		{name: "byTag nil", text: `{{ byTag nil }} {{ byPort nil }}`, want: "map[] map[]"},
		{name: "byMeta bad int", text: `{{ service "web" | byMeta "env|int" }}`, wantErr: `byMeta: cannot parse "prod" as number`},
		{name: "explode conflict", text: `{{ scratch.MapSet "m" "a" "1" }}{{ scratch.MapSet "m" "a/b" "2" }}{{ scratch.Get "m" | explodeMap }}`,
			wantErr: `explodeMap: not a map: "a/b": "a" already has value "1"`},
		{name: "mergeMap keeps dst", text: `{{ $d := parseJSON "{\"a\":\"1\"}" }}{{ $s := parseJSON "{\"a\":\"2\",\"b\":\"3\"}" }}{{ mergeMap $d $s }}`, want: "map[a:1 b:3]"},
		{name: "mergeMap changes dst", text: `{{ $d := parseJSON "{\"a\":\"1\"}" }}{{ $_ := mergeMap $d (parseJSON "{\"b\":\"3\"}") }}{{ $d }}`, want: "map[a:1 b:3]"},
		{name: "mergeMapWithOverride", text: `{{ $d := parseJSON "{\"a\":\"1\"}" }}{{ $s := parseJSON "{\"a\":\"2\",\"b\":\"3\"}" }}{{ mergeMapWithOverride $d $s }}`, want: "map[a:2 b:3]"},
		{name: "containsAll tags", text: `{{ range service "web" }}{{ .Tags | containsAll (index (service "web") 0).Tags }}{{ end }}`, want: "truefalsefalse"},
		{name: "containsAny string needles", text: `{{ containsAny "prod" "production" }}`, wantErr: "containsAny: want a list of needles, got string"},
		{name: "containsNone nil needles", text: `{{ containsNone nil "x" }} {{ containsNotAll nil "x" }}`, want: "true false"},
		{name: "loop two variables", text: `{{ range $i, $v := loop 3 5 }}{{ $i }}={{ $v }};{{ end }}`, want: "0=3;1=4;"},
		{name: "loop break", text: `{{ range $i := loop 100 }}{{ if eq $i 2 }}{{ break }}{{ end }}{{ $i }}{{ end }}`, want: "01"},
		{name: "loop empty", text: `{{ range loop 5 2 }}x{{ else }}none{{ end }}`, want: "none"},
		{name: "loop float", text: `{{ range loop 1.5 }}{{ end }}`, wantErr: "loop: bad argument type: float64"},
		{name: "loop bad string", text: `{{ range loop "x" }}{{ end }}`, wantErr: "loop: parseInt: "},
		{name: "loop arity", text: `{{ range loop 1 2 3 }}{{ end }}`, wantErr: "loop: wrong number of arguments, expected 1 or 2, but got 3"},
	})
}

func TestByMeta(t *testing.T) {
	svc := func(id string, meta map[string]string) *watch.HealthService {
		return &watch.HealthService{ID: id, ServiceMeta: meta}
	}
	a := svc("a", map[string]string{"version": "v2", "num": "2", "bad": "1zz", "env": "dev"})
	b := svc("b", map[string]string{"version": "v11", "num": "11", "bad": "1zz", "env": "prod"})
	c := svc("c", map[string]string{"version": "v11", "num": "-3", "env": "prod/eu"})
	d := svc("d", nil)
	tests := []struct {
		name     string
		keys     string
		services []*watch.HealthService
		want     map[string][]string // group → instance IDs
		wantErr  string
	}{
		{name: "string", keys: "version", services: []*watch.HealthService{a, b, c}, want: map[string][]string{"v2": {"a"}, "v11": {"b", "c"}}},
		{name: "int padded", keys: "num|int", services: []*watch.HealthService{a, b, c}, want: map[string][]string{"00002": {"a"}, "00011": {"b"}, "-0003": {"c"}}},
		{name: "several, normalised", keys: "env,num|int", services: []*watch.HealthService{a, c}, want: map[string][]string{"dev_00002": {"a"}, "prod_eu_-0003": {"c"}}},
		{name: "missing", keys: "env,num|int", services: []*watch.HealthService{d}, want: map[string][]string{"_no_env__00000": {"d"}}},
		{name: "bad int", keys: "bad|int", services: []*watch.HealthService{a}, wantErr: `byMeta: cannot parse "1zz" as number`},
		{name: "none", keys: "env", services: nil, want: map[string][]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			groups, err := byMeta(tc.keys, tc.services)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := make(map[string][]string)
			for g, ss := range groups {
				for _, s := range ss {
					got[g] = append(got[g], s.ID)
				}
			}
			if !maps.EqualFunc(got, tc.want, slices.Equal) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestByKeyCopiesPairs(t *testing.T) {
	in := []*watch.KeyPair{
		{Key: "redis/a", Value: "1"}, {Key: "redis/b/c", Value: "2"}, {Key: "redis/"}, {Key: "top", Value: "x"},
	}
	got := byKey(in)
	if len(got) != 1 || len(got["redis"]) != 2 {
		t.Fatalf("got %v, want one group redis with a and b/c", got)
	}
	if p := got["redis"]["b/c"]; p.Key != "b/c" || p.Value != "2" {
		t.Fatalf("redis[b/c] = %+v", p)
	}
	if in[0].Key != "redis/a" {
		t.Fatalf("byKey changed its input: %q", in[0].Key)
	}
}

func TestIn(t *testing.T) {
	type tag string
	tests := []struct {
		name string
		list any
		v    any
		want bool
	}{
		{name: "string in strings", list: []string{"a", "b"}, v: "b", want: true},
		{name: "string in tags", list: watch.ServiceTags{"a"}, v: "a", want: true},
		{name: "other string type", list: []tag{"a"}, v: "a", want: false},
		{name: "substring", list: "production", v: "duct", want: true},
		{name: "int sizes", list: []int8{1, 2}, v: int64(2), want: true},
		{name: "int against float", list: []any{1.0}, v: 1, want: false},
		{name: "float in interfaces", list: []any{"x", 2.5}, v: 2.5, want: true},
		{name: "unsigned never", list: []uint{1}, v: uint(1), want: false},
		{name: "nil value", list: []string{"a"}, v: nil, want: false},
		{name: "nil list", list: nil, v: "a", want: false},
		{name: "map", list: map[string]string{"a": "a"}, v: "a", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := in(tc.list, tc.v); got != tc.want {
				t.Fatalf("in(%v, %v) = %v, want %v", tc.list, tc.v, got, tc.want)
			}
			if got := contains(tc.v, tc.list); got != tc.want {
				t.Fatalf("contains(%v, %v) = %v, want %v", tc.v, tc.list, got, tc.want)
			}
		})
	}
}

func TestContainsSome(t *testing.T) {
	list := watch.ServiceTags{"a", "b", "c"}
	tests := []struct {
		name                   string
		needles                any
		all, any, none, notAll bool
	}{
		{name: "all present", needles: []any{"a", "b"}, all: true, any: true},
		{name: "some present", needles: []string{"a", "z"}, any: true, notAll: true},
		{name: "none present", needles: watch.ServiceTags{"y", "z"}, none: true, notAll: true},
		{name: "no needles", needles: []any{}, all: true, none: true},
	}
	funcs := collectionFuncs()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for fn, want := range map[string]bool{"containsAll": tc.all, "containsAny": tc.any, "containsNone": tc.none, "containsNotAll": tc.notAll} {
				got, err := funcs[fn].(func(any, any) (bool, error))(tc.needles, list)
				if err != nil || got != want {
					t.Errorf("%s(%v, %v) = %v, %v; want %v", fn, tc.needles, list, got, err, want)
				}
			}
		})
	}
}

func TestLoopLongRange(t *testing.T) {
	g, release := newGuard(t.Context(), "t", Options{})
	defer release()
	ch, err := loopOf(g, int64(0), uint(loopPrefill+10))
	if err != nil {
		t.Fatal(err)
	}
	var n, last int64
	for v := range ch {
		n, last = n+1, v
	}
	if n != loopPrefill+10 || last != loopPrefill+9 {
		t.Fatalf("got %d values ending at %d, want %d ending at %d", n, last, loopPrefill+10, loopPrefill+9)
	}
}

func TestSprigSortAlphaLeavesItsInputAlone(t *testing.T) {
	in := []string{"dc3", "dc1", "dc2"}
	fn := sprigFuncs()["sprig_sortAlpha"].(func(any) []string)
	got := fn(in)
	if !slices.Equal(got, []string{"dc1", "dc2", "dc3"}) {
		t.Fatalf("sorted: %v", got)
	}
	if !slices.Equal(in, []string{"dc3", "dc1", "dc2"}) {
		t.Fatalf("the input was changed: %v", in)
	}
}
