package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/clock"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

func TestGitHubPauseKeepsTheLaterEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		if until, err := s.GitHubPausedUntil(ctx, 7); err != nil || !until.IsZero() {
			t.Fatalf("never paused: %v, %v", until, err)
		}
		later, sooner := c.Now().Add(time.Hour), c.Now().Add(10*time.Minute)
		for _, u := range []time.Time{later, sooner} {
			if err := s.PauseGitHub(ctx, 7, u); err != nil {
				t.Fatal(err)
			}
		}
		if until, err := s.GitHubPausedUntil(ctx, 7); err != nil || !until.Equal(later) {
			t.Fatalf("paused until %v (%v), want %v", until, err, later)
		}
		if until, err := s.GitHubPausedUntil(ctx, 8); err != nil || !until.IsZero() {
			t.Fatalf("another installation: %v, %v", until, err)
		}
		if _, err := s.ForgetInstallation(ctx, 7); err != nil {
			t.Fatal(err)
		}
		if until, err := s.GitHubPausedUntil(ctx, 7); err != nil || !until.IsZero() {
			t.Fatalf("a forgotten installation is still paused until %v (%v)", until, err)
		}
	})
}

func TestNudgeMovesTheGeneration(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *store.Store, c *clock.Manual) {
		ctx := context.Background()
		pr := samplePR(c.Now())
		record(t, s, pr, true, false)
		before, err := s.Generation(ctx, pr.Key)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Nudge(ctx, pr.Key); err != nil {
			t.Fatal(err)
		}
		if after, err := s.Generation(ctx, pr.Key); err != nil || after != before+1 {
			t.Fatalf("generation %d after a nudge from %d (%v)", after, before, err)
		}
		if err := s.Nudge(ctx, "nobody/none#1"); err != nil {
			t.Fatalf("nudging an unknown PR: %v", err)
		}
	})
}
