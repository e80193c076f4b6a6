package main

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"

	"github.com/hasura-preview/hasura-preview/internal/webhook"
)

// syncFixture is a real pull_request.synchronize delivery as GitHub sends
// it (pretty-printed, about 28 KB).
//
//go:embed testdata/pull_request.synchronize.json
var syncFixture []byte

// The fixture's values that make one delivery differ from another.
var (
	fixNumber  = []byte(`"number": 2,`)
	fixHeadSHA = []byte(`"sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821"`)
	fixUpdated = []byte(`"updated_at": "2019-05-15T15:20:33Z"`)
)

// delivery is one signed POST /webhook.
type delivery struct {
	guid string
	body []byte
	sig  string
	pr   int
}

// prBody rewrites the fixture for PR number pr: its number, head SHA and
// updated_at change; the size and layout stay as GitHub sends them.
func prBody(pr int) ([]byte, error) {
	if bytes.Count(syncFixture, fixNumber) != 2 || bytes.Count(syncFixture, fixHeadSHA) != 1 ||
		bytes.Count(syncFixture, fixUpdated) != 1 {
		return nil, fmt.Errorf("the embedded fixture changed shape")
	}
	b := bytes.ReplaceAll(syncFixture, fixNumber, fmt.Appendf(nil, `"number": %d,`, pr))
	b = bytes.Replace(b, fixHeadSHA, fmt.Appendf(nil, `"sha": "%040x"`, pr), 1)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(pr) * time.Second)
	return bytes.Replace(b, fixUpdated, fmt.Appendf(nil, `"updated_at": %q`, at.Format(time.RFC3339)), 1), nil
}

// makeDeliveries returns n deliveries for PRs firstPR, firstPR+1, ...; every
// dupEvery-th one (when > 0) is a redelivery of the one lag places earlier.
func makeDeliveries(secret []byte, n, firstPR, dupEvery, lag int) ([]delivery, error) {
	out := make([]delivery, 0, n)
	pr := firstPR
	for i := range n {
		if dupEvery > 0 && i%dupEvery == dupEvery-1 && i >= lag {
			// A redelivery repeats an earlier delivery byte for byte, GUID
			// included, as GitHub's "Redeliver" button does.
			out = append(out, out[i-lag])
			continue
		}
		body, err := prBody(pr)
		if err != nil {
			return nil, err
		}
		out = append(out, delivery{guid: fmt.Sprintf("bench-%d-%d", firstPR, i), body: body,
			sig: webhook.Sign(secret, body), pr: pr})
		pr++
	}
	return out, nil
}
