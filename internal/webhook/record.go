package webhook

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/hasura-preview/hasura-preview/internal/store"
)

// record stores the delivery d and what in implies, and enqueues the PRs it
// touches, in one transaction: a 202 means all of it is durable, and a
// failure leaves nothing behind, so that GitHub's redelivery starts afresh.
func (h *Handler) record(ctx context.Context, d *store.Delivery, in *intent) result {
	ctx, cancel := context.WithTimeout(ctx, txTimeout)
	defer cancel()
	d.Action, d.Repo, d.PRNumber, d.Outcome, d.Reason = in.action, in.repo, in.number, in.outcome, in.reason
	var res result
	err := h.st.WithTx(ctx, func(tx *store.Tx) error {
		var keys []string
		var err error
		if res, keys, err = h.apply(ctx, tx, d, in); err != nil {
			return err
		}
		_, err = h.q.EnqueueManyTx(ctx, tx, keys)
		if len(keys) > 1 {
			res.reason = strings.TrimPrefix(res.reason+"; ", "; ") + strconv.Itoa(len(keys)) + " PRs queued"
		}
		return err
	})
	if err != nil {
		return result{status: http.StatusInternalServerError, outcome: "error", reason: "internal error", err: err}
	}
	return res
}

// apply records one delivery and what it implies within tx, and returns
// the PRs whose reconcile job it asks for.
func (h *Handler) apply(ctx context.Context, tx *store.Tx, d *store.Delivery, in *intent) (result, []string, error) {
	res := result{status: http.StatusAccepted, outcome: string(in.outcome), reason: in.reason}
	if in.outcome == store.OutcomeRejected {
		res.status = http.StatusBadRequest
	}
	inserted, err := tx.InsertDelivery(ctx, d)
	if err != nil {
		return result{}, nil, err
	}
	if !inserted {
		return result{status: http.StatusOK, outcome: string(store.OutcomeDuplicate), reason: "already received"}, nil, nil
	}
	var keys []string
	switch in.kind {
	case kindPullRequest:
		applied, err := tx.RecordPullRequest(ctx, in.pr, true, in.reopened)
		if err != nil {
			return result{}, nil, err
		}
		if !applied {
			res.reason = "older than the recorded state"
			return res, nil, tx.SetDeliveryOutcome(ctx, d.Source, d.GUID, in.outcome, res.reason)
		}
		keys = []string{in.pr.Key}
	case kindCommand:
		first, err := tx.FirstCommand(ctx, in.commandKey)
		if err != nil {
			return result{}, nil, err
		}
		if !first {
			reason := in.commandKey + " was already taken"
			return result{status: http.StatusOK, outcome: string(store.OutcomeDuplicate), reason: reason}, nil,
				tx.SetDeliveryOutcome(ctx, d.Source, d.GUID, store.OutcomeDuplicate, reason)
		}
		in.command.At = d.ReceivedAt
		if err := tx.RecordCommand(ctx, in.pr, in.command); err != nil {
			return result{}, nil, err
		}
		keys = []string{in.pr.Key}
	case kindInstallUpsert:
		err = tx.UpsertInstallation(ctx, in.installation)
	case kindInstallSuspend:
		err = tx.SetInstallationSuspended(ctx, in.installation.ID, true)
	case kindInstallDelete:
		keys, err = tx.MarkInstallationDeleted(ctx, in.installation.ID)
	case kindReposChanged:
		if err = tx.AddRepos(ctx, in.installation.ID, in.reposAdded); err == nil {
			keys, err = tx.MarkReposRemoved(ctx, in.installation.ID, in.reposRemoved)
		}
	}
	if err != nil {
		return result{}, nil, err
	}
	return res, keys, nil
}
