package template

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	yaml "gopkg.in/yaml.v2"
)

// encodingFuncs encode, decode, hash and parse values.
//
// YAML goes through gopkg.in/yaml.v2, as in consul-template, so that toYAML
// writes the same text (yaml.v3 indents lists differently) and parseYAML
// reads YAML 1.1 ("yes" is true) into the same types: mappings become
// map[interface{}]interface{}, which toJSON cannot encode, just as there.
func encodingFuncs() map[string]any {
	return map[string]any{
		"base64Encode":          base64Encode,
		"base64Decode":          base64Decode,
		"base64URLEncode":       base64URLEncode,
		"base64URLDecode":       base64URLDecode,
		"sha256Hex":             sha256Hex,
		"md5sum":                md5sum,
		"hmacSHA256Hex":         hmacSHA256Hex,
		"toJSON":                toJSON,
		"toJSONPretty":          toJSONPretty,
		"toUnescapedJSON":       toUnescapedJSON,
		"toUnescapedJSONPretty": toUnescapedJSONPretty,
		"toYAML":                toYAML,
		"toTOML":                toTOML,
		"parseJSON":             parseJSON,
		"parseYAML":             parseYAML,
		"parseBool":             parseBool,
		"parseInt":              parseInt,
		"parseUint":             parseUint,
		"parseFloat":            parseFloat,
	}
}

// base64Encode encodes s in standard, padded base64.
func base64Encode(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// base64Decode decodes standard, padded base64.
func base64Decode(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("base64Decode: %w", err)
	}
	return string(b), nil
}

// base64URLEncode encodes s in URL-safe, padded base64.
func base64URLEncode(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

// base64URLDecode decodes URL-safe, padded base64.
func base64URLDecode(s string) (string, error) {
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		return "", fmt.Errorf("base64URLDecode: %w", err)
	}
	return string(b), nil
}

// sha256Hex returns the SHA-256 digest of s in lower-case hex.
func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5sum returns the MD5 digest of s in lower-case hex.
func md5sum(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// hmacSHA256Hex returns the HMAC-SHA256 of message under key in lower-case
// hex. The message comes first: {{ "somekey" | hmacSHA256Hex "message" }}.
func hmacSHA256Hex(message, key string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(message))
	return hex.EncodeToString(mac.Sum(nil))
}

// toJSON encodes v as compact JSON, with map keys sorted and <, > and &
// escaped as \u003c, \u003e and \u0026.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toJSON: %w", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// toJSONPretty is toJSON indented by two spaces.
func toJSONPretty(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("toJSONPretty: %w", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// toUnescapedJSON is toJSON without escaping <, > and &.
func toUnescapedJSON(v any) (string, error) {
	s, err := encodeJSON(v, "")
	if err != nil {
		return "", fmt.Errorf("toUnescapedJSON: %w", err)
	}
	return s, nil
}

// toUnescapedJSONPretty is toJSONPretty without escaping <, > and &.
func toUnescapedJSONPretty(v any) (string, error) {
	s, err := encodeJSON(v, "  ")
	if err != nil {
		return "", fmt.Errorf("toUnescapedJSONPretty: %w", err)
	}
	return s, nil
}

// encodeJSON encodes v without HTML escaping, indented by indent when it is
// not empty, without the final line end.
func encodeJSON(v any, indent string) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimRight(buf.String(), "\r\n"), nil
}

// toYAML encodes v as YAML (map keys sorted, lists not indented under their
// key), without surrounding white space.
func toYAML(v any) (string, error) {
	b, err := yaml.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("toYAML: %w", err)
	}
	return string(bytes.TrimSpace(b)), nil
}

// toTOML encodes v, which must be a map or struct, as TOML (keys sorted,
// tables indented by two spaces), without surrounding white space.
func toTOML(v any) (string, error) {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return "", fmt.Errorf("toTOML: %w", err)
	}
	return string(bytes.TrimSpace(buf.Bytes())), nil
}

// parseJSON decodes JSON into maps, slices, strings, float64s, bools and
// nil. An empty string gives an empty map, so that a key that has not
// arrived yet does not fail the template.
func parseJSON(s string) (any, error) {
	if s == "" {
		return map[string]any{}, nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("parseJSON: %w", err)
	}
	return v, nil
}

// parseYAML decodes YAML 1.1 the way yaml.v2 does (see encodingFuncs). An
// empty string gives an empty map.
func parseYAML(s string) (any, error) {
	if s == "" {
		return map[string]any{}, nil
	}
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("parseYAML: %w", err)
	}
	return v, nil
}

// parseBool parses s as strconv.ParseBool does; "" is false.
func parseBool(s string) (bool, error) {
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("parseBool: %w", err)
	}
	return b, nil
}

// parseInt parses s as a base-10 int64; "" is 0.
func parseInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parseInt: %w", err)
	}
	return n, nil
}

// parseUint parses s as a base-10 uint64; "" is 0.
func parseUint(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parseUint: %w", err)
	}
	return n, nil
}

// parseFloat parses s as a float64; "" is 0.
func parseFloat(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("parseFloat: %w", err)
	}
	return f, nil
}
