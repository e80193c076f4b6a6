package reconcile

import (
	"maps"
	"testing"

	"github.com/hasura-preview/hasura-preview/internal/ghsim"
)

// cloneTokens are the contents:read tokens minted for the Cloud to clone.
func (h *harness) cloneTokens() []ghsim.MintedToken {
	var out []ghsim.MintedToken
	for _, m := range h.gh.MintedTokens() {
		if maps.Equal(m.Permissions, map[string]string{"contents": "read", "metadata": "read"}) {
			out = append(out, m)
		}
	}
	return out
}

// TestCloneTokenIsRevokedWhenTheBuildIsOver: the read token handed to the
// Cloud lives for an hour unless revoked; once the build is over (ready or
// failed) nothing needs it, so it must be dead.
func TestCloneTokenIsRevokedWhenTheBuildIsOver(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{})
	h.cloud.FailTask("shop-pr-8", "apply-migration", "relation exists", "")
	h.openBuilt(7)
	h.openBuilt(8)
	toks := h.cloneTokens()
	if len(toks) != 2 {
		t.Fatalf("%d clone tokens minted, want 2", len(toks))
	}
	for _, m := range toks {
		if !m.Revoked {
			t.Errorf("clone token %s of %v is still alive after the build", m.Label, m.Repos)
		}
	}
}
