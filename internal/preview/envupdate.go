package preview

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/hasura-preview/hasura-preview/internal/cloud"
)

// envUpdateTries bounds UpdateEnv's reads: each stale hash costs one more.
const envUpdateTries = 4

// EnvSpec asks for the live app's environment to be brought to Env in
// place, without a rebuild.
type EnvSpec struct {
	Name     string
	TenantID string
	Env      []EnvVar // the wanted environment (the same list Start was given)
	// Managed are the keys an earlier build or update set; those no longer
	// in Env are deleted. Keys the Cloud or a person set are left alone.
	Managed []string
	// Databases, when set, names variables its database owns: left alone.
	Databases Databases
}

// UpdateEnv changes the live app's env in place: upsert the keys whose value
// differs (updateTenantEnv merges the keys sent), remove managed keys no
// longer wanted (deleteTenantEnv), each guarded by the hash just read and
// retried on a stale one. A zero EnvUpdate means nothing differed.
func (e *Engine) UpdateEnv(ctx context.Context, spec EnvSpec) (EnvUpdate, error) {
	owned := map[string]bool{}
	if spec.Databases != nil {
		for _, k := range spec.Databases.EnvKeys() {
			owned[k] = true
		}
	}
	want := map[string]string{}
	for _, v := range spec.Env {
		if !owned[v.Key] {
			want[v.Key] = v.Value
		}
	}
	var done EnvUpdate
	attempt := func() error {
		cur, err := e.Cloud.TenantEnv(ctx, spec.TenantID)
		if err != nil {
			return classifyEnvErr(err)
		}
		var set []cloud.EnvVar
		for _, k := range EnvKeys(spec.Env) {
			if live, ok := cur.Vars[k]; !owned[k] && (!ok || live != want[k]) {
				set = append(set, cloud.EnvVar{Key: k, Value: want[k]})
			}
		}
		var del []string
		for _, k := range spec.Managed {
			if _, wanted := want[k]; !wanted && !owned[k] && !slices.Contains(del, k) {
				if _, live := cur.Vars[k]; live {
					del = append(del, k)
				}
			}
		}
		hash := cur.Hash
		if len(set) > 0 {
			next, err := e.Cloud.UpdateTenantEnv(ctx, spec.TenantID, hash, set)
			if err != nil {
				return classifyEnvErr(err)
			}
			hash = next.Hash
			for _, v := range set {
				done.Set = append(done.Set, v.Key)
			}
		}
		if len(del) > 0 {
			if _, err := e.Cloud.DeleteTenantEnv(ctx, spec.TenantID, hash, del); err != nil {
				return classifyEnvErr(err)
			}
			done.Deleted = append(done.Deleted, del...)
		}
		return nil
	}
	b := backoff.WithContext(backoff.WithMaxRetries(backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(200*time.Millisecond), backoff.WithMaxInterval(2*time.Second),
	), envUpdateTries-1), ctx)
	if err := backoff.Retry(attempt, b); err != nil {
		return EnvUpdate{}, fmt.Errorf("updating the env of preview app %q: %w", spec.Name, err)
	}
	if len(done.Set) == 0 && len(done.Deleted) == 0 {
		return EnvUpdate{}, nil
	}
	slices.Sort(done.Set)
	slices.Sort(done.Deleted)
	done.At = e.now()
	e.log().Info("preview app env updated in place", "app", spec.Name, "set", done.Set, "deleted", done.Deleted)
	return done, nil
}

// classifyEnvErr lets only a stale hash be retried here: the client has
// already retried transient failures, and other refusals are final.
func classifyEnvErr(err error) error {
	if errors.Is(err, cloud.ErrHashConflict) {
		return err
	}
	return backoff.Permanent(err)
}

// EnvSig fingerprints env (keys and values, in order) as an HMAC-SHA256:
// stored in the open (a deployment's payload), the owner's key keeps anyone
// from testing guesses of a secret against it.
func EnvSig(key string, env []EnvVar) string {
	h := hmac.New(sha256.New, []byte(key))
	for _, v := range env {
		fmt.Fprintf(h, "%d:%s=%d:%s\n", len(v.Key), v.Key, len(v.Value), v.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// EnvValue returns the value env gives key (the last one set), or "".
func EnvValue(env []EnvVar, key string) string {
	v := ""
	for _, e := range env {
		if e.Key == key {
			v = e.Value
		}
	}
	return v
}

// EnvKeys lists the keys of env in order, once each.
func EnvKeys(env []EnvVar) []string {
	var keys []string
	for _, v := range env {
		if !slices.Contains(keys, v.Key) {
			keys = append(keys, v.Key)
		}
	}
	return keys
}
