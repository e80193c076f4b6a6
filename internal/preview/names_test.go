package preview

import (
	"strings"
	"sync"
	"testing"
)

func TestAppName(t *testing.T) {
	hello := NameVars{Owner: "Codertocat", Repo: "Hello-World", PR: 2, Branch: "changes"}
	long := NameVars{Owner: "o", Repo: "r", PR: 7, Branch: "feature/" + strings.Repeat("very-long-branch-name-", 5) + "one"}
	tests := []struct {
		name string
		tmpl string
		v    NameVars
		want string
	}{
		{"default", "", hello, "hello-world-pr-2"},
		{"explicit default", "{repo}-pr-{pr}", hello, "hello-world-pr-2"},
		{"all placeholders", "{owner}-{repo}-{branch}-{pr}", hello, "codertocat-hello-world-changes-2"},
		{"runs collapse", "{repo}__--..{branch}", NameVars{Repo: "My Repo", Branch: "feat//x"}, "my-repo-feat-x"},
		{"no edge hyphens", "--{branch}--", NameVars{Branch: "/fix/"}, "fix"},
		{"non-ASCII becomes hyphen", "{branch}", NameVars{Branch: "café-ünïcode"}, "caf-n-code"},
		{"literal text", "preview-{pr}", hello, "preview-2"},
		{"63 exactly kept", "{branch}", NameVars{Branch: strings.Repeat("a", 63)}, strings.Repeat("a", 63)},
		{"long truncated with hash", "{branch}-{pr}", long, "feature-very-long-branch-name-very-long-branch-name-ver-385e1e1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AppName(tc.tmpl, tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("AppName(%q) = %q, want %q", tc.tmpl, got, tc.want)
			}
			if err := ValidName(got); err != nil {
				t.Errorf("result not valid: %v", err)
			}
		})
	}
}

func TestAppNameLongDistinct(t *testing.T) {
	prefix := strings.Repeat("shared-prefix-", 6)
	a, err := AppName("{branch}", NameVars{Branch: prefix + "alpha"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := AppName("{branch}", NameVars{Branch: prefix + "beta"})
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatalf("two long branches share the name %q", a)
	}
	if len(a) != MaxNameLen || len(b) != MaxNameLen {
		t.Errorf("lengths %d, %d; want %d", len(a), len(b), MaxNameLen)
	}
	if !strings.HasPrefix(a, "shared-prefix-") {
		t.Errorf("readable prefix lost: %q", a)
	}
}

func TestAppNameTruncationNeverEndsInDoubleHyphen(t *testing.T) {
	// Put a hyphen exactly where the cut falls.
	branch := strings.Repeat("a", MaxNameLen-hashLen-2) + "-" + strings.Repeat("b", 20)
	got, err := AppName("{branch}", NameVars{Branch: branch})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "--") || ValidName(got) != nil {
		t.Errorf("got %q", got)
	}
}

func TestAppNameErrors(t *testing.T) {
	tests := []struct {
		tmpl string
		v    NameVars
		msg  string
	}{
		{"{repo}-{number}", NameVars{Repo: "r"}, "unknown placeholder {number}"},
		{"{Repo}", NameVars{Repo: "r"}, "unknown placeholder {Repo}"},
		{"{repo", NameVars{Repo: "r"}, "without a closing"},
		{"{branch}", NameVars{Branch: "___"}, "empty name"},
		{"---", NameVars{}, "empty name"},
	}
	for _, tc := range tests {
		_, err := AppName(tc.tmpl, tc.v)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("AppName(%q) error = %v, want one mentioning %q", tc.tmpl, err, tc.msg)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, ok := range []string{"a", "hello-world-pr-2", "0abc", strings.Repeat("x", 63)} {
		if err := ValidName(ok); err != nil {
			t.Errorf("ValidName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "Hello", "a_b", "a.b", "a b", strings.Repeat("x", 64), "é"} {
		if ValidName(bad) == nil {
			t.Errorf("ValidName(%q) accepted", bad)
		}
	}
}

func TestIsUnsetName(t *testing.T) {
	for s, want := range map[string]bool{"": true, "cloud_free": true, " cloud_free ": true, "my-app": false, "cloud_free_2": false} {
		if got := IsUnsetName(s); got != want {
			t.Errorf("IsUnsetName(%q) = %t", s, got)
		}
	}
}

// fuzzSeen records every long input's normalized form and result across
// the corpus run, so that a collision between two seeds is caught.
var fuzzSeen sync.Map // result → normalized untruncated form

func FuzzAppName(f *testing.F) {
	f.Add("", "Codertocat", "Hello-World", 2, "changes")
	f.Add("{owner}-{repo}-{branch}", "o", "r", 1, strings.Repeat("long-branch-", 10)+"a")
	f.Add("{owner}-{repo}-{branch}", "o", "r", 1, strings.Repeat("long-branch-", 10)+"b")
	f.Add("{branch}-{pr}", "", "", 99999, "Ünïcödé/ブランチ/🙂")
	f.Add("{unknown}", "o", "r", 1, "b")
	f.Add("{", "", "", 0, "")
	f.Fuzz(func(t *testing.T, tmpl, owner, repo string, pr int, branch string) {
		v := NameVars{Owner: owner, Repo: repo, PR: pr, Branch: branch}
		got, err := AppName(tmpl, v)
		again, err2 := AppName(tmpl, v)
		if got != again || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %q/%v then %q/%v", got, err, again, err2)
		}
		if err != nil {
			return
		}
		if vErr := ValidName(got); vErr != nil {
			t.Fatalf("AppName(%q, %+v) = %q: %v", tmpl, v, got, vErr)
		}
		if len(got) > MaxNameLen {
			t.Fatalf("length %d", len(got))
		}
		expanded, _ := expand(tmplOrDefault(tmpl), v)
		norm := normalize(expanded)
		if len(norm) <= MaxNameLen {
			if got != norm {
				t.Fatalf("short name changed: %q → %q", norm, got)
			}
			return
		}
		if prev, loaded := fuzzSeen.LoadOrStore(got, norm); loaded && prev.(string) != norm {
			t.Fatalf("collision: %q and %q both give %q", prev, norm, got)
		}
	})
}

func tmplOrDefault(t string) string {
	if t == "" {
		return DefaultNameTemplate
	}
	return t
}
