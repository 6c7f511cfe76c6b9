package consul

import (
	"testing"
)

// BenchmarkDecodeHealth compares decoding a 1,000-instance health answer
// into records: encoding/json into the api client's types plus the
// conversion (what the api client did), and decodeHealth with and without
// interning.
func BenchmarkDecodeHealth(b *testing.B) {
	body := generatedHealth(1000)
	b.Run("encoding-json-api", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err, _ := referenceHealth(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeHealth", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeHealth(body, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeHealth-interned", func(b *testing.B) {
		in := &interner{}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeHealth(body, in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
