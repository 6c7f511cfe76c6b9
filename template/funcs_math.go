package template

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
)

// mathFuncs do arithmetic on integers and floats the way consul-template
// does.
//
// Each takes its operands in reverse, so that the piped value is the left
// operand: {{ 10 | divide 2 }} and {{ divide 2 10 }} are 10 / 2.
//
// Any integer or float kind is accepted. The result is float64 when either
// operand is a float, uint64 when both are unsigned, and int64 otherwise
// (unsigned values are converted with int64(), as consul-template does).
// minimum and maximum return the chosen operand widened to its own 64-bit
// kind. Anything else, such as a string, is an error naming the operand.
func mathFuncs() map[string]any {
	return map[string]any{
		"add": arithmetic("add",
			func(a, b int64) (int64, error) { return a + b, nil },
			func(a, b uint64) (uint64, error) { return a + b, nil },
			func(a, b float64) float64 { return a + b }),
		"subtract": arithmetic("subtract",
			func(a, b int64) (int64, error) { return a - b, nil },
			func(a, b uint64) (uint64, error) { return a - b, nil },
			func(a, b float64) float64 { return a - b }),
		"multiply": arithmetic("multiply",
			func(a, b int64) (int64, error) { return a * b, nil },
			func(a, b uint64) (uint64, error) { return a * b, nil },
			func(a, b float64) float64 { return a * b }),
		"divide": arithmetic("divide",
			func(a, b int64) (int64, error) {
				if b == 0 {
					return 0, errDivideByZero
				}
				return a / b, nil
			},
			func(a, b uint64) (uint64, error) {
				if b == 0 {
					return 0, errDivideByZero
				}
				return a / b, nil
			},
			func(a, b float64) float64 { return a / b }),
		// modulo takes no floats, like consul-template's.
		"modulo": arithmetic("modulo",
			func(a, b int64) (int64, error) {
				if b == 0 {
					return 0, errDivideByZero
				}
				return a % b, nil
			},
			func(a, b uint64) (uint64, error) {
				if b == 0 {
					return 0, errDivideByZero
				}
				return a % b, nil
			},
			nil),
		"minimum": choose("minimum", -1),
		"maximum": choose("maximum", +1),
	}
}

// errDivideByZero is an integer divide or modulo by zero. consul-template
// panics there (text/template turns the panic into an error); we return it.
var errDivideByZero = errors.New("integer divide by zero")

// numKind is how an operand takes part in arithmetic.
type numKind int

const (
	notNumber numKind = iota
	signedNum
	unsignedNum
	floatNum
)

func isSigned(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }

func isUnsigned(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uint64 }

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }

// kindOf classifies v; floats are no number when floats is false.
func kindOf(v reflect.Value, floats bool) numKind {
	switch k := v.Kind(); {
	case isSigned(k):
		return signedNum
	case isUnsigned(k):
		return unsignedNum
	case isFloat(k) && floats:
		return floatNum
	}
	return notNumber
}

// operands converts the operands of fn, a the left and b the right one, and
// returns the kind both are computed in.
func operands(fn string, a, b any, floats bool) (av, bv reflect.Value, common numKind, err error) {
	av, bv = reflect.ValueOf(a), reflect.ValueOf(b)
	ak, bk := kindOf(av, floats), kindOf(bv, floats)
	switch {
	case ak == notNumber:
		return av, bv, notNumber, fmt.Errorf("%s: unknown type for %q (%T)", fn, av, a)
	case bk == notNumber:
		return av, bv, notNumber, fmt.Errorf("%s: unknown type for %q (%T)", fn, bv, b)
	case ak == floatNum || bk == floatNum:
		return av, bv, floatNum, nil
	case ak == unsignedNum && bk == unsignedNum:
		return av, bv, unsignedNum, nil
	}
	return av, bv, signedNum, nil
}

// asInt64 converts an integer operand.
func asInt64(v reflect.Value) int64 {
	if isUnsigned(v.Kind()) {
		return int64(v.Uint())
	}
	return v.Int()
}

// asFloat64 converts any numeric operand.
func asFloat64(v reflect.Value) float64 {
	switch k := v.Kind(); {
	case isSigned(k):
		return float64(v.Int())
	case isUnsigned(k):
		return float64(v.Uint())
	}
	return v.Float()
}

// widened returns v as int64, uint64 or float64, after its own kind.
func widened(v reflect.Value) any {
	switch k := v.Kind(); {
	case isSigned(k):
		return v.Int()
	case isUnsigned(k):
		return v.Uint()
	}
	return v.Float()
}

// arithmetic returns the template function fn(b, a) computing a op b. A nil
// float op makes floats an error.
func arithmetic(fn string, i func(a, b int64) (int64, error), u func(a, b uint64) (uint64, error),
	f func(a, b float64) float64) func(b, a any) (any, error) {
	return func(b, a any) (any, error) {
		av, bv, common, err := operands(fn, a, b, f != nil)
		if err != nil {
			return nil, err
		}
		var r any
		switch common {
		case floatNum:
			return f(asFloat64(av), asFloat64(bv)), nil
		case unsignedNum:
			r, err = u(av.Uint(), bv.Uint())
		default:
			r, err = i(asInt64(av), asInt64(bv))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fn, err)
		}
		return r, nil
	}
}

// choose returns the template function fn(b, a) returning a when it
// compares to b as want (-1 for less, +1 for greater), else b.
func choose(fn string, want int) func(b, a any) (any, error) {
	return func(b, a any) (any, error) {
		av, bv, common, err := operands(fn, a, b, true)
		if err != nil {
			return nil, err
		}
		var pickA bool
		switch common {
		case floatNum:
			pickA = beats(asFloat64(av), asFloat64(bv), want)
		case unsignedNum:
			pickA = beats(av.Uint(), bv.Uint(), want)
		default:
			pickA = beats(asInt64(av), asInt64(bv), want)
		}
		if pickA {
			return widened(av), nil
		}
		return widened(bv), nil
	}
}

// beats reports whether a < b (want -1) or a > b (want +1). As with
// consul-template's plain < and >, a comparison with NaN is false, so b wins.
func beats[T cmp.Ordered](a, b T, want int) bool {
	if want < 0 {
		return a < b
	}
	return a > b
}
