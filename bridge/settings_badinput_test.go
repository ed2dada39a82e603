package bridge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
)

// TestParseSettingsRefusesTrailingData: a settings document is one JSON
// object. A second document or stray text after it is refused with a
// clear error, never silently dropped (a PUT of `{...}{"connection":...}`
// must not save only the first half).
func TestParseSettingsRefusesTrailingData(t *testing.T) {
	const doc = `{"connection":{"host":"dc1.example.com","port":636,"security":"ldaps","baseDn":"DC=example,DC=com"}}`
	cases := []struct {
		name, in string
		ok       bool
	}{
		{"one document", doc, true},
		{"trailing spaces and newlines", doc + " \n\t\r\n", true},
		{"leading whitespace", "\n  " + doc, true},
		{"two documents", doc + ` {"connection":{"host":"evil.example.com"}}`, false},
		{"two documents, no space", doc + doc, false},
		{"garbage", doc + "garbage", false},
		{"a closing brace", doc + "}", false},
		{"a closing bracket", doc + "]", false},
		{"null", doc + "null", false},
		{"a number", doc + " 1", false},
		{"a string", doc + ` "x"`, false},
		{"a comma", doc + ",", false},
		{"a comment", doc + "\n// comment", false},
		{"NUL", doc + "\x00", false},
		{"an unterminated second document", doc + `{"connection":`, false},
		{"an empty object then more", `{} {}`, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := bridge.ParseSettings([]byte(c.in))
			if c.ok {
				if err != nil || s.Connection.Host != "dc1.example.com" {
					t.Fatalf("ParseSettings: %+v, %v", s.Connection, err)
				}
				return
			}
			var ve *bridge.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 || !errors.Is(err, bridge.ErrInvalid) {
				t.Fatalf("ParseSettings(%q) = %+v, %v; want one validation problem", c.in, s, err)
			}
			if msg := ve.Problems[0].Message; !strings.Contains(msg, "one JSON object") && !strings.Contains(msg, "not valid JSON") {
				t.Fatalf("unclear message %q", msg)
			}
			if s.Connection.Host != "" {
				t.Fatalf("a refused document returned settings: %+v", s)
			}
		})
	}
	// The message says where the document ended.
	_, err := bridge.ParseSettings([]byte(`{}garbage`))
	if err == nil || !strings.Contains(err.Error(), "more follows it (after byte 2)") {
		t.Fatalf("error %v does not say where the document ended", err)
	}
}
