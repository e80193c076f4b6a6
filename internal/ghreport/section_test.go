package ghreport

import (
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/preview"
)

// TestRenderSection: the API review section shows on a failed build as
// on a building one, after the task log and before the footer; it cannot
// open an HTML comment; an oversized one is left out with a note.
func TestRenderSection(t *testing.T) {
	section := "### API changes\n\n1 table added\n\n<details><summary>What changed</summary>\n\n- added `t` <!-- hidden @someone\n\n</details>\n"
	for _, st := range []preview.Status{preview.StatusCreating, preview.StatusFailed} {
		v := baseView()
		v.Result.Status = st
		v.Section = section
		v.Footer = "hasura-preview"
		body := Render(v)
		i := strings.Index(body, "### API changes\n\n1 table added")
		if i < 0 || i > strings.Index(body, "<sub>hasura-preview") {
			t.Fatalf("%s: section missing or after the footer:\n%s", st, body)
		}
		if strings.Count(body, "<!--") != strings.Count(Render(baseViewWith(st)), "<!--") {
			t.Errorf("%s: the section added an HTML comment:\n%s", st, body)
		}
		if strings.Contains(body, "@someone") {
			t.Errorf("%s: mention kept", st)
		}
	}
	v := baseView()
	v.Section = "### API changes\n\n" + strings.Repeat("x", maxSection)
	if body := Render(v); strings.Contains(body, "xxxxxxxx") || !strings.Contains(body, "too long for the comment") {
		t.Errorf("oversized section rendered: %d characters", len(body))
	}
}

func baseViewWith(st preview.Status) View {
	v := baseView()
	v.Result.Status = st
	v.Footer = "hasura-preview"
	return v
}
