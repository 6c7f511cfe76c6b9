package template

import (
	"strings"
	"testing"
)

func TestSprigFuncsAreHermeticAndPrefixed(t *testing.T) {
	funcs := sprigFuncs()
	for _, name := range []string{"sprig_upper", "sprig_list", "sprig_semverCompare", "sprig_b64enc"} {
		if funcs[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	for _, name := range []string{"sprig_now", "sprig_env", "sprig_expandenv", "sprig_randAlpha", "sprig_uuidv4", "upper"} {
		if funcs[name] != nil {
			t.Errorf("%s present, want it left out", name)
		}
	}
	for name := range funcs {
		if !strings.HasPrefix(name, "sprig_") {
			t.Errorf("%s lacks the sprig_ prefix", name)
		}
	}
}

func TestSprigInTemplates(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "pipe", text: `{{ "web" | sprig_upper | sprig_repeat 2 }}`, want: "WEBWEB"},
		{name: "with tags", text: `{{ range service "web" }}{{ .Tags | sprig_first }} {{ end }}`, want: "prod prod canary "},
	})
	if _, err := Parse("t", `{{ sprig_now }}`, Options{}); err == nil || !strings.Contains(err.Error(), `function "sprig_now" not defined`) {
		t.Fatalf("sprig_now: err = %v, want not defined", err)
	}
}
