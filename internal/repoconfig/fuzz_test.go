package repoconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// FuzzParse checks that no input panics, that every failure is an *Error
// with at least one problem, and that a file that parses resolves without
// panicking and keeps its promises (directory inside the repository, a
// name template that expands, secrets only under the prefix). The seed
// corpus is testdata/fuzz/FuzzParse plus the example files.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) || len(pe.Problems) == 0 {
				t.Fatalf("Parse error %v is not an *Error with problems", err)
			}
			return
		}
		if strings.Contains("/"+c.Directory+"/", "/../") || strings.HasPrefix(c.Directory, "/") {
			t.Fatalf("directory %q leaves the repository", c.Directory)
		}
		if _, err := preview.AppName(c.Name, preview.NameVars{Owner: "o", Repo: "r", PR: 1, Branch: "b"}); err != nil {
			t.Fatalf("accepted name template %q does not expand: %v", c.Name, err)
		}
		var asked []string
		r, err := c.Resolve(func(k string) string {
			asked = append(asked, k)
			return "postgres://u:p@h/db"
		}, prefix)
		for _, k := range asked {
			if !strings.HasPrefix(k, prefix) {
				t.Fatalf("Resolve read %q, outside the prefix", k)
			}
		}
		if err != nil {
			t.Fatalf("a file that parses does not resolve with every secret set: %v", err)
		}
		if len(r.Env) != len(c.Env)+len(c.Secrets) {
			t.Fatalf("Resolve returned %d variables for %d+%d", len(r.Env), len(c.Env), len(c.Secrets))
		}
	})
}
