package repoconfig

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v60/github"
)

// Fetch reads and parses the configuration file of owner/repo at baseRef,
// which must be the pull request's BASE branch (its name, or the base
// commit SHA from the event): a pull request must not be able to change
// its own policy or choose which secrets it receives.
//
// A missing file returns ErrNotConfigured (the repository does not take
// part); GitHub answers the same 404 for a repository the client's token
// cannot see. A file that is too large or does not parse returns an *Error fit
// for a pull request comment. Other errors (network, rate limits, 5xx)
// are returned wrapped, with the *github.ErrorResponse reachable through
// errors.As for the caller's retry policy.
func Fetch(ctx context.Context, client *github.Client, owner, repo, baseRef string) (*Config, error) {
	file, dir, _, err := client.Repositories.GetContents(ctx, owner, repo, Path, &github.RepositoryContentGetOptions{Ref: baseRef})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			// GitHub answers 404 both for a missing file and for a ref
			// that does not exist; only the first means "not configured".
			if strings.Contains(er.Message, "No commit found") {
				return nil, fmt.Errorf("reading %s of %s/%s: the branch %q does not exist", Path, owner, repo, baseRef)
			}
			return nil, ErrNotConfigured
		}
		return nil, fmt.Errorf("reading %s of %s/%s at %q: %w", Path, owner, repo, baseRef, err)
	}
	if file == nil || dir != nil || file.GetType() != "file" {
		return nil, &Error{Problems: []Problem{{Message: "is not a file"}}}
	}
	if file.GetSize() > MaxSize {
		return nil, &Error{Problems: []Problem{{Message: fmt.Sprintf("the file is %d bytes; at most %d are accepted", file.GetSize(), MaxSize)}}}
	}
	text, err := file.GetContent()
	if err != nil {
		return nil, fmt.Errorf("reading %s of %s/%s: decoding the contents API answer: %w", Path, owner, repo, err)
	}
	return Parse([]byte(text))
}
