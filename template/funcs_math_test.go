package template

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestMathFuncs(t *testing.T) {
	funcs := mathFuncs()
	tests := []struct {
		name    string
		fn      string
		b, a    any // the template arguments in order: {{ fn b a }} is a OP b
		want    any // value and type
		wantErr string
	}{
		{name: "add ints", fn: "add", b: 1, a: 2, want: int64(3)},
		{name: "add int float", fn: "add", b: 1, a: 2.5, want: 3.5},
		{name: "add uints", fn: "add", b: uint8(1), a: uint(2), want: uint64(3)},
		{name: "add int uint", fn: "add", b: -5, a: uint(3), want: int64(-2)},
		{name: "subtract order", fn: "subtract", b: 2, a: 5, want: int64(3)},
		{name: "subtract uint wraps", fn: "subtract", b: uint(5), a: uint(3), want: uint64(math.MaxUint64 - 1)},
		{name: "multiply float32", fn: "multiply", b: float32(0.5), a: 4, want: 2.0},
		{name: "divide order", fn: "divide", b: 2, a: 10, want: int64(5)},
		{name: "divide truncates", fn: "divide", b: 4, a: 10, want: int64(2)},
		{name: "divide float", fn: "divide", b: 4.0, a: 10, want: 2.5},
		{name: "divide float by zero", fn: "divide", b: 0.0, a: 1, want: math.Inf(1)},
		{name: "divide int by zero", fn: "divide", b: 0, a: 1, wantErr: "divide: integer divide by zero"},
		{name: "modulo", fn: "modulo", b: 3, a: 5, want: int64(2)},
		{name: "modulo negative", fn: "modulo", b: 3, a: -5, want: int64(-2)},
		{name: "modulo uints", fn: "modulo", b: uint(3), a: uint(5), want: uint64(2)},
		{name: "modulo by zero", fn: "modulo", b: uint(0), a: uint(5), wantErr: "modulo: integer divide by zero"},
		{name: "modulo float left", fn: "modulo", b: 2, a: 5.0, wantErr: "modulo: unknown type for %!q(float64=5) (float64)"},
		{name: "modulo float right", fn: "modulo", b: 2.0, a: 5, wantErr: "modulo: unknown type for %!q(float64=2) (float64)"},
		{name: "minimum", fn: "minimum", b: 2, a: 5, want: int64(2)},
		{name: "minimum keeps kind", fn: "minimum", b: 2.5, a: uint(5), want: 2.5},
		{name: "minimum tie takes b", fn: "minimum", b: 5.0, a: 5, want: 5.0},
		{name: "minimum NaN takes b", fn: "minimum", b: 3, a: math.NaN(), want: int64(3)},
		{name: "maximum", fn: "maximum", b: 2, a: 5, want: int64(5)},
		{name: "maximum uint", fn: "maximum", b: uint(7), a: -1, want: uint64(7)},
		{name: "string left", fn: "add", b: 1, a: "x", wantErr: `add: unknown type for "x" (string)`},
		{name: "string right", fn: "add", b: "y", a: 1, wantErr: `add: unknown type for "y" (string)`},
		{name: "nil", fn: "maximum", b: nil, a: 1, wantErr: "maximum: unknown type for <invalid reflect.Value> (<nil>)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := funcs[tc.fn].(func(b, a any) (any, error))(tc.b, tc.a)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestMathPipes(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "add", text: `{{ 2 | add 1 }}`, want: "3"},
		{name: "subtract", text: `{{ 5 | subtract 2 }}`, want: "3"},
		{name: "divide", text: `{{ 10 | divide 2 }}`, want: "5"},
		{name: "modulo", text: `{{ 5 | modulo 2 }}`, want: "1"},
		{name: "chain", text: `{{ 7 | add 3 | multiply 2 | subtract 5 | divide 3 }}`, want: "5"},
		{name: "with port", text: `{{ range service "web" }}{{ .Port | add 1 }} {{ end }}`, want: "8081 8081 9091 "},
	})
}
