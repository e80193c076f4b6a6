package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghreport"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// editOfOurComment is the checkbox fixture with the comment's body edited
// from before to after.
func editOfOurComment(t *testing.T, before, after string) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(mustRead(t, "issue_comment.edited.checkbox.json"), &ev); err != nil {
		t.Fatal(err)
	}
	ev["comment"].(map[string]any)["body"] = ghreport.Marker + "\n" + after
	ev["changes"] = map[string]any{"body": map[string]any{"from": ghreport.Marker + "\n" + before}}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The intake and the reconciler read the rebuild checkbox with one parser:
// every tick the intake accepts is a box the reconciler then unticks, so
// the next click is noticed again. Boxes without our hidden suffix (which
// quoted text cannot carry) are refused.
func TestAcceptedBoxIsOneTheReconcilerUnticks(t *testing.T) {
	const suffix = " <!-- hasura-preview:rebuild -->"
	cases := []struct {
		name, empty, ticked string
		accept              bool
	}{
		{"as rendered", "- [ ] Rebuild this preview" + suffix, "- [x] Rebuild this preview" + suffix, true},
		{"capital X", "- [ ] Rebuild this preview" + suffix, "- [X] Rebuild this preview" + suffix, true},
		{"star bullet", "* [ ] Rebuild this preview" + suffix, "* [x] Rebuild this preview" + suffix, true},
		{"stray spaces", "-  [ ]  Rebuild this preview " + suffix, "-  [x]  Rebuild this preview " + suffix, true},
		{"crlf", "- [ ] Rebuild this preview" + suffix + "\r", "- [x] Rebuild this preview" + suffix + "\r", true},
		{"no suffix", "- [ ] Rebuild this preview", "- [x] Rebuild this preview", false},
		{"other words", "* [ ] rebuild" + suffix, "* [x] rebuild" + suffix, false},
		{"another box", "- [ ] rebuild it please", "- [x] rebuild it please", false},
		{"quoted", "> - [ ] Rebuild this preview" + suffix, "> - [x] Rebuild this preview" + suffix, false},
		{"delete box", "- [ ] Delete", "- [x] Delete", false},
	}
	for _, tc := range cases {
		before := "### Hasura preview\n\n" + tc.empty + "\n"
		after := "### Hasura preview\n\n" + tc.ticked + "\n"
		in, err := decode("issue_comment", editOfOurComment(t, before, after), "hasura-preview[bot]")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		accepted := in.outcome == store.OutcomeAccepted && in.kind == kindCommand
		if accepted != tc.accept {
			t.Errorf("%s: intake accepted %v, want %v (%s)", tc.name, accepted, tc.accept, in.reason)
		}
		if !accepted {
			continue
		}
		// What the reconciler does with the comment (reconcile.untick).
		if !ghreport.ParseRebuildTicked(ghreport.Marker + "\n" + after) {
			t.Errorf("%s: the intake accepted a box the reconciler does not see ticked", tc.name)
			continue
		}
		cleared := ghreport.ClearRebuildTick(ghreport.Marker + "\n" + after)
		if ghreport.ParseRebuildTicked(cleared) {
			t.Errorf("%s: still ticked after the reconciler unticked it", tc.name)
		}
		again, err := decode("issue_comment", editOfOurComment(t, strings.TrimPrefix(cleared, ghreport.Marker+"\n"), after), "hasura-preview[bot]")
		if err != nil || again.outcome != store.OutcomeAccepted {
			t.Errorf("%s: ticking the unticked box again was not accepted: %v", tc.name, err)
		}
	}
}
