package reconcile

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/pgdb"
	"github.com/hasura-preview/hasura-preview/internal/preview"
	"github.com/hasura-preview/hasura-preview/internal/repoconfig"
	"github.com/hasura-preview/hasura-preview/internal/store"
)

// Hold kinds: why a preview stays deleted although the PR is open.
const (
	holdCommand = "command" // "/preview delete"
	holdTTL     = "ttl"     // the preview outlived its TTL
)

// Why a preview is rebuilt although its head did not move.
const (
	redoAsked   = "asked"   // a permitted rebuild request not yet acted on
	redoDrifted = "drifted" // the app vanished, or another build replaced ours
)

// defaultKeepLabel protects a preview from its TTL unless the repository
// names another.
const defaultKeepLabel = "preview"

// hold keeps a preview deleted while the PR's head is still SHA.
type hold struct {
	SHA  string `json:"sha"`
	Kind string `json:"kind"`         // holdCommand or holdTTL
	By   string `json:"by,omitempty"` // who asked, for holdCommand
}

// state is the reconciler's own record of a preview, kept as JSON in
// store.Preview.RunState; with the Preview row it renders the comment.
type state struct {
	// Run is the engine's progress on the current (or last) build; none
	// while building: a create may have been sent without its job id.
	Run *preview.Run `json:"run,omitempty"`
	// BuildGen and BuildSHA are what the current (or last) build is for;
	// Builds counts them, so a rebuild is a new final state to show.
	BuildGen int64  `json:"build_gen,omitempty"`
	BuildSHA string `json:"build_sha,omitempty"`
	Builds   int    `json:"builds,omitempty"`
	// Redo (redoAsked, redoDrifted) asks for a rebuild of the same head.
	Redo     string    `json:"redo,omitempty"`
	Hold     *hold     `json:"hold,omitempty"`
	QueuedAt time.Time `json:"queued_at,omitzero"` // orders the previews waiting for a slot
	// The TTL counts from BuiltAt; ExpiresAt and WarnAt are derived, for
	// the sweep to read without GitHub.
	BuiltAt   time.Time `json:"built_at,omitzero"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	WarnAt    time.Time `json:"warn_at,omitzero"`
	KeepLabel string    `json:"keep_label,omitempty"`
	Reason    string    `json:"reason,omitempty"` // why the preview was deleted or not built
	// Reported is the final state last shown on GitHub in full (comment
	// and deployment status); a mismatch means that showing is owed.
	Reported string `json:"reported,omitempty"`
	// DeployOwed: the build's deployment could not be created (a rate
	// limit or outage); it is created with the final status.
	DeployOwed bool `json:"deploy_owed,omitempty"`
	// EnvSig fingerprints the live app's env (EnvKeys its keys), so a
	// change of env alone is applied in place; EnvUpdates counts those.
	EnvSig     string   `json:"env_sig,omitempty"`
	EnvKeys    []string `json:"env_keys,omitempty"`
	EnvUpdates int      `json:"env_updates,omitempty"`
	// SecretVars are the service variables the env's secrets came from,
	// SecretSig their values', so the sweep notices a rotated secret.
	SecretVars []string `json:"secret_vars,omitempty"`
	SecretSig  string   `json:"secret_sig,omitempty"`
	// AutoRebuildSHA was rebuilt once after the Cloud's first-run error.
	AutoRebuildSHA string `json:"auto_rebuild_sha,omitempty"`
	// APIReview is the API review of APIReviewSHA against the base, and
	// APISummary its one line.
	APIReviewSHA string `json:"api_review_sha,omitempty"`
	APISummary   string `json:"api_summary,omitempty"`
	APIReview    string `json:"api_review,omitempty"`
}

// legacyFields are the flags Redo and Hold replaced ("starting" is now read
// off the Preview's status). They are still written, so that an older
// replica in a rolling upgrade keeps a pending rebuild and a hold.
type legacyFields struct {
	Rebuild  bool   `json:"rebuild,omitempty"`
	Drifted  bool   `json:"drifted,omitempty"`
	HoldSHA  string `json:"hold_sha,omitempty"`
	HoldKind string `json:"hold_kind,omitempty"`
	HoldBy   string `json:"hold_by,omitempty"`
}

// decodeState reads a stored state, older records too.
func decodeState(raw []byte) *state {
	var rec struct {
		state
		legacyFields
	}
	if len(raw) > 0 && json.Unmarshal(raw, &rec) != nil {
		// Costs at most one rebuild, rather than wedging the PR.
		return &state{}
	}
	s := rec.state
	switch {
	case rec.Rebuild && s.Redo == "":
		s.Redo = redoAsked
	case rec.Drifted && s.Redo == "":
		s.Redo = redoDrifted
	}
	if rec.HoldSHA != "" && s.Hold == nil {
		s.Hold = &hold{SHA: rec.HoldSHA, Kind: rec.HoldKind, By: rec.HoldBy}
	}
	return &s
}

func (s *state) encode() []byte {
	rec := struct {
		*state
		legacyFields
	}{state: s}
	rec.Rebuild, rec.Drifted = s.Redo == redoAsked, s.Redo == redoDrifted
	if s.Hold != nil {
		rec.HoldSHA, rec.HoldKind, rec.HoldBy = s.Hold.SHA, s.Hold.Kind, s.Hold.By
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic("reconcile: encoding state: " + err.Error()) // plain data: cannot fail
	}
	return b
}

// encodeMasked is encode with the texts that can quote a secret masked.
func (s *state) encodeMasked(mask func(string) string) []byte {
	c := *s
	if s.Run != nil {
		run := *s.Run
		run.Result = run.Result.Masked(mask)
		c.Run = &run
	}
	c.Reason = mask(c.Reason)
	return c.encode()
}

// building reports whether a build is under way (or may be).
func building(p *store.Preview, s *state) bool {
	if s.Run == nil {
		return p.Status == store.StatusBuilding
	}
	return !s.Run.Result.Status.Done()
}

// reportKey names a final state for Reported.
func reportKey(p *store.Preview, s *state) string {
	builds := strconv.Itoa(s.Builds)
	if s.EnvUpdates > 0 {
		builds += "." + strconv.Itoa(s.EnvUpdates)
	}
	return fmt.Sprintf("%s@%s#%s", p.Status, builds, strings.TrimSpace(s.Reason))
}

// fingerprints hash envs for the run state, keyed with Settings.EnvSigKey
// so that whoever reads the database cannot test guesses of a secret.
type fingerprints struct {
	key    string
	getenv func(string) string
}

func (fp fingerprints) env(env []preview.EnvVar) string { return preview.EnvSig(fp.key, env) }

// matches reports whether stored fingerprints env, keyed or, as records
// written before the key were, unkeyed (those are re-keyed on their next pass).
func (fp fingerprints) matches(stored string, env []preview.EnvVar) bool {
	return stored == fp.env(env) || stored == preview.EnvSig("", env)
}

// secrets is the current values of the service variables names.
func (fp fingerprints) secrets(names []string) []preview.EnvVar {
	env := make([]preview.EnvVar, len(names))
	for i, n := range names {
		env[i] = preview.EnvVar{Key: n, Value: fp.getenv(n)}
	}
	return env
}

// recordEnv notes the env a build or an update gave the app.
func (s *state) recordEnv(res *repoconfig.Resolved, fp fingerprints) {
	s.EnvSig, s.EnvKeys = fp.env(res.Env), preview.EnvKeys(res.Env)
	s.SecretVars, s.SecretSig = slices.Clone(res.SecretVars), fp.env(fp.secrets(res.SecretVars))
}

// secretsRotated reports whether a variable the live env came from changed.
func (s *state) secretsRotated(fp fingerprints) bool {
	return len(s.SecretVars) > 0 && !fp.matches(s.SecretSig, fp.secrets(s.SecretVars))
}

// held reports whether the preview must stay deleted for pr's head.
func (s *state) held(pr *store.PullRequest, keepLabel string) bool {
	if s.Hold == nil || s.Hold.SHA != pr.HeadSHA {
		return false
	}
	return s.Hold.Kind != holdTTL || !hasLabel(pr.Labels, keepLabel)
}

// setTTL derives the expiry from BuiltAt and the TTL in force.
func (s *state) setTTL(ttl, warning time.Duration, keepLabel string) {
	s.KeepLabel = keepLabel
	s.ExpiresAt, s.WarnAt = time.Time{}, time.Time{}
	if ttl <= 0 || s.BuiltAt.IsZero() {
		return
	}
	s.ExpiresAt = s.BuiltAt.Add(ttl)
	if warning > 0 && warning < ttl {
		s.WarnAt = s.ExpiresAt.Add(-warning)
	}
}

func hasLabel(labels []string, want string) bool {
	return want != "" && slices.ContainsFunc(labels, func(l string) bool { return strings.EqualFold(l, want) })
}

// secretValues lists what a configuration holds that must not be shown:
// secret values, and the database server's URI and password.
func secretValues(res repoconfig.Resolved) []string {
	var out []string
	for _, v := range res.Env {
		if res.IsSecret(v) {
			out = append(out, v.Value)
		}
	}
	if pg := res.Postgres; pg != nil {
		out = append(out, pg.ServerURI)
		out = append(out, pgdb.PasswordForms(pg.ServerURI)...)
	}
	return out
}

// maskError returns err masked, still unwrapping to err.
func maskError(err error, m *preview.Masker) error {
	if err == nil {
		return nil
	}
	text := m.Mask(err.Error())
	if text == err.Error() {
		return err
	}
	return &maskedError{err: err, text: text}
}

type maskedError struct {
	err  error
	text string
}

func (e *maskedError) Error() string { return e.text }
func (e *maskedError) Unwrap() error { return e.err }

func (r *Reconciler) fingerprints() fingerprints {
	return fingerprints{key: r.Settings.EnvSigKey, getenv: r.Getenv}
}
