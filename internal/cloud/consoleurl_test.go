package cloud_test

import (
	"net/url"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// TestConsoleURLEscapesTheID: a project id from a bad answer must stay one
// path segment of cloud.hasura.io, not point elsewhere on the site.
func TestConsoleURLEscapesTheID(t *testing.T) {
	for _, id := range []string{"0b3d1c9e-7f2a-4e58-9a61-2c4d8e0f1b7a", "../../evil?x=1#frag", "a/b c%2F"} {
		u, err := url.Parse(cloud.ConsoleURL(id))
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if u.Host != "cloud.hasura.io" || u.RawQuery != "" || u.Fragment != "" || u.Path != "/project/"+id+"/console" {
			t.Errorf("ConsoleURL(%q) = %s", id, u)
		}
	}
}
