package reliability

import (
	"context"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

func TestEngineFaultStorm(t *testing.T) {
	rep, err := EngineFaultStorm(context.Background(), EngineStormConfig{PRs: 24, Pushes: 3, Rate: 0.3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep)
	if !rep.OK() {
		t.Fatalf("storm: %s\nproblems:\n%s\norphans: %v\nleaks: %v", rep, strings.Join(rep.Problems, "\n"), rep.Orphans, rep.Leaks)
	}
	// The storm must have been a storm: faults seen, some PRs closed mid-build.
	if rep.Faulted < rep.Requests/5 || rep.ClosedDuringBuild == 0 || rep.Builds != 24*3 {
		t.Fatalf("not the storm asked for: %s", rep)
	}
}

func TestScanSecretsFindsSpellings(t *testing.T) {
	secrets := map[string]string{"token": "tok_en/with+odd chars"}
	for where, text := range map[string]string{
		"raw":     "x tok_en/with+odd chars y",
		"query":   "a=tok_en%2Fwith%2Bodd+chars",
		"prefix":  "Bearer tok_en/with+…",
		"escaped": `{"v":"tok_en/with+odd chars"}`,
	} {
		leaks, err := ScanSecrets(secrets, map[string]string{where: text})
		if err != nil || len(leaks) != 1 || leaks[0].Where != where {
			t.Errorf("%s: %v %v", where, leaks, err)
		}
	}
	if leaks, _ := ScanSecrets(secrets, map[string]string{"clean": "tok_en/with"}); len(leaks) != 0 {
		t.Errorf("clean text flagged: %v", leaks)
	}
	if _, err := ScanSecrets(map[string]string{"short": "abc"}, nil); err == nil {
		t.Error("a short secret was accepted")
	}
}

// TestScanSecretsFindsEscapedSpellings: a secret with Markdown punctuation,
// an @ and a newline, in each spelling a renderer undoes.
func TestScanSecretsFindsEscapedSpellings(t *testing.T) {
	const v = "pw_1*[x]<y>#~`z@host\nsecond line&\"q"
	md := regexp.MustCompile("([\\\\`*_\\[\\]<>|~#&\"@])").ReplaceAllString(strings.Join(strings.Fields(v), " "), `\$1`)
	j, _ := json.Marshal(v)
	for where, text := range map[string]string{
		"markdown":      "> task failed: " + md,
		"json":          `{"last_error":` + string(j) + `}`,
		"html":          "<td>" + html.EscapeString(v) + "</td>",
		"path":          "/x/" + url.PathEscape(v),
		"mention-break": strings.ReplaceAll(v, "@", "@\u200b"),
		"prefix folded": "pw_1*[x]<y>#…",
	} {
		leaks, err := ScanSecrets(map[string]string{"s": v}, map[string]string{where: text})
		if err != nil || len(leaks) != 1 {
			t.Errorf("%s: %v %v in %q", where, leaks, err, text)
		}
	}
}
