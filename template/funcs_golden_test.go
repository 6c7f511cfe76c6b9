package template

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/funcs")

// goldenData is a Data backed by a map from query key to value.
type goldenData map[string]any

func (d goldenData) Get(key string) (any, bool) {
	v, ok := d[key]
	return v, ok
}

// fixtureEnv is the environment the helper tests run with.
var fixtureEnv = map[string]string{"CTPL_TEST_REGION": "eu-west", "CTPL_TEST_EMPTY": ""}

// fixtureData returns a small registry: service "web" with three instances,
// the catalog's services, and the KV tree "config".
func fixtureData(t *testing.T) goldenData {
	t.Helper()
	web := []*watch.HealthService{
		{Node: "node-a", Address: "10.0.0.1", ID: "web-1", Name: "web", Port: 8080, Status: "passing",
			Tags: watch.ServiceTags{"prod", "v1"}, ServiceMeta: map[string]string{"env": "prod", "shard": "2"}},
		{Node: "node-b", Address: "10.0.0.2", ID: "web-2", Name: "web", Port: 8080, Status: "passing",
			Tags: watch.ServiceTags{"prod", "v2"}, ServiceMeta: map[string]string{"env": "prod", "shard": "10"}},
		{Node: "node-c", Address: "10.0.0.3", ID: "web-3", Name: "web", Port: 9090, Status: "passing",
			Tags: watch.ServiceTags{"canary"}, ServiceMeta: map[string]string{"env": "dev.eu"}},
	}
	services := []*watch.CatalogService{
		{Name: "consul"},
		{Name: "db", Tags: watch.ServiceTags{"primary"}},
		{Name: "web", Tags: watch.ServiceTags{"canary", "prod", "v1", "v2"}},
	}
	config := []*watch.KeyPair{
		{Key: "", Path: "config/"},
		{Key: "app/name", Path: "config/app/name", Value: "demo"},
		{Key: "app/port", Path: "config/app/port", Value: "8080"},
		{Key: "db/host", Path: "config/db/host", Value: "db.local"},
		{Key: "db/port", Path: "config/db/port", Value: "5432"},
		{Key: "flags/", Path: "config/flags/"},
		{Key: "motd", Path: "config/motd", Value: "hello <world> & co"},
	}
	key := func(s watch.Spec, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s.String()
	}
	d := goldenData{
		key(watch.ParseService("web")):                         web,
		key(watch.ParseCatalog(watch.KindCatalogServices, "")): services,
		key(watch.ParseKV(watch.KindKVList, "config")):         config,
		key(watch.ParseKV(watch.KindKVGet, "config/app/weights")): watch.KVValue{
			Value: `{"web-1": 3, "web-2": 1}`, Exists: true},
	}
	maps.Copy(d, dataFixtures(key))
	return d
}

// render parses and executes text against the fixture data.
func render(t *testing.T, name, text string) (string, error) {
	t.Helper()
	tmpl, err := Parse(name, text, Options{Getenv: func(k string) string { return fixtureEnv[k] }})
	if err != nil {
		return "", err
	}
	res, err := tmpl.Execute(fixtureData(t))
	if err != nil {
		return "", err
	}
	if !res.Complete() {
		t.Fatalf("%s: queries without data: %v", name, res.Missing)
	}
	return string(res.Output), nil
}

// helperCase is one template with its expected output or error.
type helperCase struct {
	name    string
	text    string
	want    string
	wantErr string // a substring of the error; empty when none is expected
}

// runHelperCases renders every case and checks its output or error.
func runHelperCases(t *testing.T, cases []helperCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := render(t, tc.name, tc.text)
			switch {
			case tc.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q (output %q)", err, tc.wantErr, got)
				}
			case err != nil:
				t.Fatalf("unexpected error: %v", err)
			case got != tc.want:
				t.Fatalf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

// TestFuncsGolden renders every testdata/funcs/NAME.tmpl against the fixture
// data and compares the output with NAME.golden; -update rewrites them.
func TestFuncsGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "funcs", "*.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no templates in testdata/funcs")
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".tmpl")
		t.Run(name, func(t *testing.T) {
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := render(t, path, string(text))
			if err != nil {
				t.Fatal(err)
			}
			golden := strings.TrimSuffix(path, ".tmpl") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./template -update to create it)", err)
			}
			if !bytes.Equal([]byte(got), want) {
				t.Errorf("%s differs from %s:\n--- got\n%s\n--- want\n%s", path, golden, got, want)
			}
		})
	}
}

// TestHelperNamesAreUnique guards against one family's function silently
// replacing another's of the same name when funcs merges them.
func TestHelperNamesAreUnique(t *testing.T) {
	tmpl := &Template{}
	families := map[string]map[string]any{
		"consul": tmpl.consulFuncs(), "env": tmpl.envFuncs(), "host": tmpl.hostFuncs(),
		"execution": tmpl.executionFuncs(), "text": textFuncs(), "collections": collectionFuncs(),
		"encoding": encodingFuncs(), "math": mathFuncs(), "sprig": sprigFuncs(),
		"data": tmpl.dataFuncs(), "host actions": tmpl.hostActionFuncs(), "guard": guardFuncs(),
	}
	owner := make(map[string]string)
	for family, fs := range families {
		for name := range fs {
			if other, dup := owner[name]; dup {
				t.Errorf("%s is defined by both %s and %s", name, other, family)
			}
			owner[name] = family
		}
	}
}

// TestLanguageIsComplete checks that every function of consul-template's
// language that ctpl offers is defined (plugin and writeToFile only once
// allowed), so none silently goes missing.
func TestLanguageIsComplete(t *testing.T) {
	want := strings.Fields(`service connect services node nodes datacenters key keyExists keyOrDefault ls safeLs
		tree safeTree file caRoots caLeaf byKey byTag byPort byMeta explode explodeMap mergeMap mergeMapWithOverride
		contains in containsAll containsAny containsNone containsNotAll join split splitToMap trim trimPrefix
		trimSuffix trimSpace indent replaceAll regexMatch regexReplaceAll toLower toUpper toTitle base64Encode
		base64Decode base64URLEncode base64URLDecode sha256Hex md5sum hmacSHA256Hex toJSON toJSONPretty
		toUnescapedJSON toUnescapedJSONPretty toYAML toTOML parseJSON parseYAML parseBool parseInt parseUint
		parseFloat env mustEnv envOrDefault timestamp loop executeTemplate scratch add subtract multiply divide
		modulo minimum maximum sockaddr sprig_upper sprig_list plugin writeToFile
		nginxQuote haproxyQuote isIP isHostname isPort mustIP mustHostname mustPort`)
	tmpl := &Template{opts: Options{Allow: OptIn}}
	funcs, denied := tmpl.allowedFuncs()
	if len(denied) != 0 {
		t.Errorf("denied with everything allowed: %v", denied)
	}
	for _, name := range want {
		if _, ok := funcs[name]; !ok {
			t.Errorf("%s is not defined", name)
		}
	}
	_, denied = (&Template{}).allowedFuncs()
	if len(denied) != 2 || denied["plugin"] == "" || denied["writeToFile"] == "" {
		t.Errorf("by default denied = %v, want plugin and writeToFile", denied)
	}
}
