package ghreport

import "testing"

// Only an edit that turns our unticked box into a ticked one asks for a
// rebuild.
func TestRebuildTickedBy(t *testing.T) {
	empty, ticked := "text\n"+rebuildUnticked+"\n", "text\n- [x] "+rebuildLabel+" "+rebuildSuffix+"\n"
	cases := []struct {
		name, before, after string
		want                bool
	}{
		{"ticked", empty, ticked, true},
		{"already ticked", ticked, ticked, false},
		{"unticked", ticked, empty, false},
		{"unchanged", empty, empty, false},
		{"no box before", "no box", ticked, false},
		{"other box", "- [ ] Delete", "- [x] Delete", false},
	}
	for _, tc := range cases {
		if got := RebuildTickedBy(tc.before, tc.after); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}
