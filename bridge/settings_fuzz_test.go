package bridge_test

import (
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/ldapsync"
)

// FuzzSettings parses and validates any settings document: it is accepted
// or refused with a *ValidationError naming every problem, never a panic;
// an accepted document validates the same again and its filters compile.
func FuzzSettings(f *testing.F) {
	for _, seed := range []string{
		`{"connection":{"host":"dc1.example.com","port":636,"security":"ldaps","baseDn":"DC=example,DC=com","bindDn":"CN=svc,DC=example,DC=com","password":"x","timeoutSeconds":30},"organizationalUnits":{"mode":"all"}}`,
		`{"connection":{"host":"dc1","port":70000,"security":"tls","baseDn":"DC=x","bindDn":"nope"},"users":{"inclusionFilter":"(department=*","customMappings":[{"scim":"title"}]}}`,
		`{"connection":{"host":"127.0.0.1","port":389,"security":"none","baseDn":"DC=x","bindDn":"CN=a,DC=x","password":"p","timeoutSeconds":5},"organizationalUnits":{"mode":"selected","selected":["OU=A,DC=y","OU=\\2C,DC=x"]},"users":{"mapping":"custom","customMappings":[{"scim":"emails[type eq \"work\"].value","ldap":"mail"},{"scim":"id","value":"x"}],"exclusionFilter":"(title=*)(x=*"},"schedule":{"enabled":true,"frequency":"interval","every":{"days":-1,"weeks":2},"start":"2026-13-01T25:00","timeZone":"Mars/Olympus"}}`,
		`{"connection":{"host":"*)(uid=*","caCertificate":"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"}}`,
		`{"unknown":1}`, `[]`, `null`, `{"connection":{"port":"389"}}`, `{"deletionThreshold":{"maxCount":-1,"maxPercent":101}}`,
		"{\"users\":{\"inclusionFilter\":\"(cn=\\u0000)\"}}",
	} {
		f.Add([]byte(seed))
	}
	syn := ldapsync.Syntax{}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := bridge.ParseSettings(data)
		if err != nil {
			var ve *bridge.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 || !errors.Is(err, bridge.ErrInvalid) {
				t.Fatalf("ParseSettings error %T %v is not a ValidationError", err, err)
			}
			return
		}
		for _, have := range []bool{false, true} {
			for _, doc := range []bridge.Settings{s, s.WithDefaults()} {
				err := doc.Validate(syn, have)
				if err == nil {
					for _, f := range []string{doc.Users.InclusionFilter, doc.Users.ExclusionFilter} {
						if f != "" {
							if cerr := ldapsync.CheckFilter(f); cerr != nil {
								t.Fatalf("an accepted document holds a filter that does not compile: %v", cerr)
							}
						}
					}
					_ = doc.Scope()
					continue
				}
				var ve *bridge.ValidationError
				if !errors.As(err, &ve) || len(ve.Problems) == 0 {
					t.Fatalf("Validate error %T %v is not a ValidationError with problems", err, err)
				}
				for _, p := range ve.Problems {
					if p.Message == "" {
						t.Fatalf("a problem without a message: %+v", p)
					}
				}
				if err2 := doc.Validate(syn, have); err2 == nil || err2.Error() != err.Error() {
					t.Fatalf("Validate is not deterministic: %v then %v", err, err2)
				}
			}
		}
	})
}
