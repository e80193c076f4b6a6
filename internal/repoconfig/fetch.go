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
// the pull request's BASE branch or commit. A missing file (or a repository
// the token cannot see: the same 404) returns ErrNotConfigured, a bad file
// an *Error; other errors wrap the *github.ErrorResponse.
func Fetch(ctx context.Context, client *github.Client, owner, repo, baseRef string) (*Config, error) {
	file, dir, _, err := client.Repositories.GetContents(ctx, owner, repo, Path, &github.RepositoryContentGetOptions{Ref: baseRef})
	if err != nil {
		var er *github.ErrorResponse
		if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
			// A ref that does not exist is a 404 too, but not "not configured".
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
