package pgdb

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

const testPassword = "Pa55-w0rd!x"

var serverURI = "postgres://admin:" + testPassword + "@db.example.com:5432/postgres?sslmode=require"

func TestParseConfig(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Config
	}{
		{"official order", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=PG_DATABASE_URL,OTHER_DB_URL",
			Config{ServerURI: serverURI, EnvVars: []string{"PG_DATABASE_URL", "OTHER_DB_URL"}}},
		{"any order, blank lines, CRLF, spaces", "\r\n  " + KeyEnvVars + " = A , B,,A \r\n\r\n" + KeyServerURI + "=" + serverURI + "\r\n",
			Config{ServerURI: serverURI, EnvVars: []string{"A", "B"}}},
		{"per env var", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A\n" + KeyPerEnvVar + "=true",
			Config{ServerURI: serverURI, EnvVars: []string{"A"}, PerEnvVar: true}},
		{"comment", "# db\n" + KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A\n" + KeyPerEnvVar + "=false",
			Config{ServerURI: serverURI, EnvVars: []string{"A"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConfig(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		msg  []string
	}{
		{"missing URI", KeyEnvVars + "=A", []string{KeyServerURI + " is missing"}},
		{"missing env vars", KeyServerURI + "=" + serverURI, []string{KeyEnvVars + " is missing"}},
		{"both missing", KeyPerEnvVar + "=true", []string{KeyServerURI + " is missing", KeyEnvVars + " is missing"}},
		{"empty env list", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "= , ", []string{"lists no variable"}},
		{"bad env name", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A,B-C", []string{`"B-C"`}},
		{"URI alone on a line", serverURI + "\n" + KeyEnvVars + "=A", []string{"line 1", "not shown"}},
		{"line without equals", "postgres://u:" + testPassword + "@h/db\n" + KeyEnvVars + "=A", []string{"line 1", "no '='"}},
		{"not postgres", KeyServerURI + "=mysql://admin:" + testPassword + "@h/db\n" + KeyEnvVars + "=A", []string{"postgres://"}},
		{"bad port", KeyServerURI + "=postgres://admin:" + testPassword + "@h:99999x/db\n" + KeyEnvVars + "=A", []string{KeyServerURI}},
		{"no host", KeyServerURI + "=postgres://admin:" + testPassword + "@/db\n" + KeyEnvVars + "=A", []string{"no host"}},
		{"empty URI", KeyServerURI + "=\n" + KeyEnvVars + "=A", []string{"empty"}},
		{"repeated key", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A\n" + KeyEnvVars + "=B", []string{"line 3", "already set on line 2"}},
		{"unknown key", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A\nPG_DATABASE_PER_ENV=true", []string{`unknown key "PG_DATABASE_PER_ENV"`}},
		{"bad bool", KeyServerURI + "=" + serverURI + "\n" + KeyEnvVars + "=A\n" + KeyPerEnvVar + "=yes please", []string{KeyPerEnvVar}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(tc.in)
			if err == nil {
				t.Fatal("no error")
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q lacks %q", err, m)
				}
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error shows the password: %q", err)
			}
		})
	}
	if _, err := ParseConfig(" \n\n"); !errors.Is(err, ErrNoConfig) {
		t.Errorf("empty input: %v, want ErrNoConfig", err)
	}
}

func TestConfigRedacted(t *testing.T) {
	cfg := Config{ServerURI: serverURI, EnvVars: []string{"PG_DATABASE_URL"}}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "cfg", cfg)
	out := fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg) + buf.String()
	if strings.Contains(out, testPassword) {
		t.Fatalf("password printed: %s", out)
	}
	for _, want := range []string{"admin:xxxxx@db.example.com:5432", "sslmode=require", "PG_DATABASE_URL"} {
		if !strings.Contains(out, want) {
			t.Errorf("%q missing from %s", want, out)
		}
	}
}
