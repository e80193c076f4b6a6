package preview

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

// clerkJWT is a Clerk JWT secret as its docs give it: JSON whose URL the
// official action would mangle if it contained ';', and which must reach the
// Cloud byte for byte.
const clerkJWT = `{"type":"RS256","jwk_url":"https://example-frontend.clerk.accounts.dev/v1/.well-known/jwks.json","claims_map":{"x-hasura-user-id":{"path":"$.sub"}};"extra":"a=b"}`

func TestParseEnv(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []EnvVar
		warnings int
	}{
		{"simple", "A=1\nB=two", []EnvVar{{"A", "1"}, {"B", "two"}}, 0},
		{"clerk JSON byte for byte", "HASURA_GRAPHQL_JWT_SECRET=" + clerkJWT, []EnvVar{{"HASURA_GRAPHQL_JWT_SECRET", clerkJWT}}, 0},
		{"semicolons and equals kept", "a=b=c;d", []EnvVar{{"a", "b=c;d"}}, 0},
		{"empty value", "EMPTY=", []EnvVar{{"EMPTY", ""}}, 0},
		{"line trimmed, value not beyond", "  A= x y \t\n", []EnvVar{{"A", " x y"}}, 0},
		{"space around key", "A =1", []EnvVar{{"A", "1"}}, 0},
		{"blank lines and comments", "\n# comment\n  # indented comment\nA=1\n\n", []EnvVar{{"A", "1"}}, 0},
		{"CRLF", "A=1\r\nB=2\r\n", []EnvVar{{"A", "1"}, {"B", "2"}}, 0},
		{"hash inside value", "A=x#y", []EnvVar{{"A", "x#y"}}, 0},
		{"heredoc", "CERT<<EOF\n-----BEGIN-----\n  indented; a=b\n-----END-----\nEOF\nB=2",
			[]EnvVar{{"CERT", "-----BEGIN-----\n  indented; a=b\n-----END-----"}, {"B", "2"}}, 0},
		{"heredoc CRLF", "K<<END\r\nl1\r\nl2\r\nEND\r\n", []EnvVar{{"K", "l1\nl2"}}, 0},
		{"heredoc empty", "K<<END\nEND", []EnvVar{{"K", ""}}, 0},
		{"heredoc keeps blank and # lines", "K<<END\n\n# not a comment\nEND", []EnvVar{{"K", "\n# not a comment"}}, 0},
		{"heredoc marker inside value is plain", "A=x<<EOF", []EnvVar{{"A", "x<<EOF"}}, 0},
		{"repeat: later wins, first position", "A=1\nB=2\nA=3", []EnvVar{{"A", "3"}, {"B", "2"}}, 1},
		{"nothing", "", nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := ParseEnv(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseEnv = %q\nwant %q", got, tc.want)
			}
			if len(warnings) != tc.warnings {
				t.Errorf("warnings %q, want %d", warnings, tc.warnings)
			}
		})
	}
}

func TestParseEnvRepeatWarningNamesKey(t *testing.T) {
	_, warnings, err := ParseEnv("SECRET_X=first-value\nSECRET_X=second-value")
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "SECRET_X") || !strings.Contains(warnings[0], "line 2") {
		t.Fatalf("warnings %q", warnings)
	}
	if strings.Contains(warnings[0], "value") && strings.Contains(warnings[0], "first-value") {
		t.Errorf("warning shows a value: %q", warnings[0])
	}
}

func TestParseEnvErrors(t *testing.T) {
	const secret = "s3cr3t-v@lue"
	tests := []struct {
		name string
		in   string
		msg  []string
	}{
		{"no equals", "A=1\n\n" + secret, []string{"line 3", "no '='"}},
		{"empty key", "=" + secret, []string{"line 1", "empty"}},
		{"key with space", "MY KEY=" + secret, []string{"line 1", `"MY KEY"`}},
		{"key starting with digit", "A=1\n1A=" + secret, []string{"line 2", `"1A"`}},
		{"key with dash", "X-Y=" + secret, []string{"line 1", `"X-Y"`}},
		{"URL pasted without key", "postgres://u:" + secret + "@h/db?sslmode=require", []string{"line 1", "not shown"}},
		{"unterminated heredoc", "A=1\nK<<EOF\n" + secret + "\nEOFX", []string{"line 2", "K", `"EOF"`}},
		{"heredoc without delimiter", "K<<\n" + secret, []string{"line 1", "delimiter"}},
		{"heredoc bad key", "bad key<<EOF\n" + secret + "\nEOF", []string{"line 1", `"bad key"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ParseEnv(tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the value: %q", err)
			}
		})
	}
}

func TestEnvVarJSON(t *testing.T) {
	b, err := json.Marshal([]EnvVar{{"K", clerkJWT}})
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]string
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 1 || back[0]["key"] != "K" || back[0]["value"] != clerkJWT {
		t.Errorf("JSON round trip: %s", b)
	}
}

func TestLooksSecret(t *testing.T) {
	secret := []string{"HASURA_GRAPHQL_ADMIN_SECRET", "HASURA_GRAPHQL_JWT_SECRET", "PG_DATABASE_URL", "DATABASE_URL",
		"API_KEY", "github_token", "DB_PASSWORD", "STRIPE_PRIVATE_KEY", "SENTRY_DSN", "ACTION_BASE_URL_AUTH"}
	plain := []string{"HASURA_GRAPHQL_ENABLE_CONSOLE", "HASURA_GRAPHQL_DEV_MODE", "ACTION_BASE_URL", "LOG_LEVEL", "HASURA_GRAPHQL_CORS_DOMAIN"}
	for _, k := range secret {
		if !LooksSecret(k) {
			t.Errorf("LooksSecret(%q) = false", k)
		}
	}
	for _, k := range plain {
		if LooksSecret(k) {
			t.Errorf("LooksSecret(%q) = true", k)
		}
	}
}

func TestHasCredentials(t *testing.T) {
	yes := []string{"postgres://u:p@h/db", "https://user:pw@example.com/x", "postgres://h/db?password=x", "postgres://u:p%zz@h/db"}
	no := []string{"postgres://u@h/db", "https://example.com/a@b", "plain text", "", "https://example.com/?user=x"}
	for _, v := range yes {
		if !HasCredentials(v) {
			t.Errorf("HasCredentials(%q) = false", v)
		}
	}
	for _, v := range no {
		if HasCredentials(v) {
			t.Errorf("HasCredentials(%q) = true", v)
		}
	}
}

func TestEnvVarRedaction(t *testing.T) {
	vars := []EnvVar{{"HASURA_GRAPHQL_ADMIN_SECRET", "topsecret"}, {"OTHER_URL", "postgres://u:hunter2@h/db"}, {"LOG_LEVEL", "debug"}}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("env", "vars", vars, "one", vars[0])
	printed := fmt.Sprintf("%v %s", vars, vars[1]) + buf.String()
	for _, s := range []string{"topsecret", "hunter2"} {
		if strings.Contains(printed, s) {
			t.Errorf("%q printed: %s", s, printed)
		}
	}
	if !strings.Contains(printed, "LOG_LEVEL=debug") {
		t.Errorf("harmless value hidden: %s", printed)
	}
}

func TestMergeEnv(t *testing.T) {
	base := []EnvVar{{"A", "1"}, {"B", "2"}, {"C", "3"}}
	override := []EnvVar{{"B", "20"}, {"D", "4"}, {"A", "10"}}
	got := MergeEnv(base, override)
	want := []EnvVar{{"A", "10"}, {"B", "20"}, {"C", "3"}, {"D", "4"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("MergeEnv = %v, want %v", got, want)
	}
	if base[0].Value != "1" || override[0].Value != "20" {
		t.Error("MergeEnv modified its input")
	}
	if got := MergeEnv(nil, nil); len(got) != 0 {
		t.Errorf("MergeEnv(nil, nil) = %v", got)
	}
	if got := MergeEnv([]EnvVar{{"A", "1"}, {"A", "2"}}, nil); !reflect.DeepEqual(got, []EnvVar{{"A", "2"}}) {
		t.Errorf("repeat within base: %v", got)
	}
}

func FuzzParseEnv(f *testing.F) {
	f.Add("A=1\nB=two")
	f.Add("HASURA_GRAPHQL_JWT_SECRET=" + clerkJWT)
	f.Add("a=b=c;d\r\n# c\n\nK<<EOF\nx\nEOF\n")
	f.Add("K<<EOF\nunterminated")
	f.Add("no equals here")
	f.Add("A=1\nA=2")
	f.Fuzz(func(t *testing.T, in string) {
		vars, _, err := ParseEnv(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "hasuraEnv line ") {
				t.Fatalf("error without a line number: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, v := range vars {
			if !ValidEnvKey(v.Key) {
				t.Fatalf("invalid key %q accepted", v.Key)
			}
			if seen[v.Key] {
				t.Fatalf("key %q twice", v.Key)
			}
			seen[v.Key] = true
		}
		// A single KEY=value line whose value has no newline must come back
		// byte for byte, whatever ';' or '=' it holds.
		if len(vars) == 1 && !strings.ContainsAny(in, "\n\r") {
			line := strings.TrimSpace(in)
			if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == vars[0].Key && v != vars[0].Value {
				t.Fatalf("value changed: %q → %q", v, vars[0].Value)
			}
		}
		// Whatever parses must survive being written back as heredocs, the
		// form that can carry any value. Trailing '\r' of a line is the one
		// byte the format cannot keep.
		var b strings.Builder
		for _, v := range vars {
			delim := "EOF"
			for strings.Contains(v.Value, delim) {
				delim += "_"
			}
			fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", v.Key, delim, v.Value, delim)
		}
		back, _, err := ParseEnv(b.String())
		if err != nil {
			t.Fatalf("written back: %v", err)
		}
		if !reflect.DeepEqual(normalizeCR(back), normalizeCR(vars)) {
			t.Fatalf("round trip: %q → %q", vars, back)
		}
	})
}

func normalizeCR(vars []EnvVar) []EnvVar {
	out := make([]EnvVar, len(vars))
	for i, v := range vars {
		out[i] = EnvVar{v.Key, strings.ReplaceAll(v.Value, "\r", "")}
	}
	return out
}

func TestEnvValue(t *testing.T) {
	env := []EnvVar{{Key: "ROLE", Value: "anon"}, {Key: "X", Value: "1"}, {Key: "ROLE", Value: "guest"}}
	if got := EnvValue(env, "ROLE"); got != "guest" {
		t.Errorf("ROLE = %q, want the last value, guest", got)
	}
	if got := EnvValue(env, "MISSING"); got != "" {
		t.Errorf("MISSING = %q", got)
	}
}
