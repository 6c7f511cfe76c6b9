package template

import "testing"

func TestEncodingFuncs(t *testing.T) {
	runHelperCases(t, []helperCase{
		{name: "base64Decode bad", text: `{{ base64Decode "!!" }}`, wantErr: "base64Decode: illegal base64 data"},
		{name: "base64URLDecode std alphabet", text: `{{ base64URLDecode "aGk/Pz4+" }}`, wantErr: "base64URLDecode: illegal base64 data"},
		{name: "toJSON escapes HTML", text: `{{ "<&>" | toJSON }} {{ "<&>" | toUnescapedJSON }}`, want: `"\u003c\u0026\u003e" "<&>"`},
		{name: "toJSON unsupported", text: `{{ "a: 1" | parseYAML | toJSON }}`, wantErr: "toJSON: json: unsupported type: map[interface {}]interface {}"},
		{name: "toJSONPretty nested", text: `{{ parseJSON "{\"a\":[1]}" | toJSONPretty }}`, want: "{\n  \"a\": [\n    1\n  ]\n}"},
		{name: "toYAML scalar", text: `{{ "yes" | toYAML }} {{ 1.5 | toYAML }}`, want: `"yes" 1.5`},
		{name: "toYAML lists unindented", text: `{{ parseJSON "{\"a\":[1,2]}" | toYAML }}`, want: "a:\n- 1\n- 2"},
		{name: "toTOML nested", text: `{{ parseJSON "{\"t\":{\"k\":\"v\"},\"a\":1}" | toTOML }}`, want: "a = 1.0\n\n[t]\n  k = \"v\""},
		{name: "toTOML nil element", text: `{{ parseJSON "{\"b\":[1,null]}" | toTOML }}`, wantErr: "toTOML: toml: cannot encode array with nil element"},
		{name: "parseJSON bad", text: `{{ parseJSON "{" }}`, wantErr: "parseJSON: unexpected end of JSON input"},
		{name: "parseJSON list", text: `{{ range parseJSON "[\"a\",\"b\"]" }}{{ . }}{{ end }}`, want: "ab"},
		{name: "parseYAML YAML 1.1", text: `{{ parseYAML "a: yes\nb: off\nc: 012" }}`, want: "map[a:true b:false c:10]"},
		{name: "parseYAML bad", text: `{{ parseYAML "a: [" }}`, wantErr: "parseYAML: yaml: line 1: did not find expected node content"},
		{name: "parseBool bad", text: `{{ parseBool "maybe" }}`, wantErr: `parseBool: strconv.ParseBool: parsing "maybe": invalid syntax`},
		{name: "parseInt bad", text: `{{ parseInt "1.5" }}`, wantErr: `parseInt: strconv.ParseInt: parsing "1.5": invalid syntax`},
		{name: "parseUint negative", text: `{{ parseUint "-1" }}`, wantErr: `parseUint: strconv.ParseUint: parsing "-1": invalid syntax`},
		{name: "parseFloat bad", text: `{{ parseFloat "x" }}`, wantErr: `parseFloat: strconv.ParseFloat: parsing "x": invalid syntax`},
		{name: "parse empty is zero", text: `{{ parseBool "" }} {{ parseInt "" }} {{ parseUint "" }} {{ parseFloat "" }} {{ parseJSON "" }} {{ parseYAML "" }}`,
			want: "false 0 0 0 map[] map[]"},
	})
}

func TestHashes(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "sha256Hex empty", got: sha256Hex(""), want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{name: "md5sum empty", got: md5sum(""), want: "d41d8cd98f00b204e9800998ecf8427e"},
		// RFC 4231 test case 2.
		{name: "hmacSHA256Hex", got: hmacSHA256Hex("what do ya want for nothing?", "Jefe"),
			want: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
}

func TestParseJSONNumbersAreFloats(t *testing.T) {
	v, err := parseJSON(`{"n": 3}`)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := v.(map[string]any)["n"].(float64); !ok || n != 3 {
		t.Fatalf("n = %#v, want float64 3", v.(map[string]any)["n"])
	}
}
