package preview

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// Secrets a Masker recognises without being told: GitHub tokens (the
// Cloud's clone token may come back in a task's error) and passwords in
// URLs.
var (
	githubTokenRE = regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,})`)
	urlPasswordRE = regexp.MustCompile(`(://[^/\s:@]*:)[^@\s/]+@`)
)

// MinSecretLen keeps a trivially short "secret" (a "1", a "true") from
// masking every occurrence of a common word.
const MinSecretLen = 4

// Masker replaces secret values with *** in text shown to people: PR
// comments, step summaries, deployment descriptions, logs. The Cloud's
// error messages are shown as they come, and they may quote the app's
// environment. It is safe for concurrent use; the zero value masks only
// what it recognises by shape.
type Masker struct {
	mu     sync.RWMutex
	values []string // longest first, so a secret inside another goes with it
}

// Set replaces the values to mask.
func (m *Masker) Set(values []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values = m.values[:0]
	m.add(values)
}

// Add adds values to mask.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.add(values)
}

func (m *Masker) add(values []string) {
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) >= MinSecretLen && !slices.Contains(m.values, v) {
			m.values = append(m.values, v)
		}
	}
	slices.SortFunc(m.values, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
}

// Mask returns s with every value, every GitHub token and every password
// in a URL replaced by ***.
func (m *Masker) Mask(s string) string {
	m.mu.RLock()
	for _, v := range m.values {
		s = strings.ReplaceAll(s, v, "***")
	}
	m.mu.RUnlock()
	s = githubTokenRE.ReplaceAllString(s, "***")
	return urlPasswordRE.ReplaceAllString(s, "${1}***@")
}
