package release

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server stands in for github.com's release downloads of one release:
// GET /<repository>/releases/download/<tag>/<asset> answers a redirect to
// the asset's storage, as GitHub does, and the storage serves its bytes.
type Server struct {
	repository, tag string
	assets          map[string][]byte

	mu        sync.Mutex
	requests  []string
	failFirst int
	rate      int
}

// NewServer serves assets as the release tag of repository ("owner/repo").
func NewServer(repository, tag string, assets map[string][]byte) *Server {
	return &Server{repository: repository, tag: tag, assets: assets}
}

// Throttle sends assets at most bytesPerSecond (0: as fast as loopback
// goes), to stand for a slower link than loopback.
func (s *Server) Throttle(bytesPerSecond int) {
	s.mu.Lock()
	s.rate = bytesPerSecond
	s.mu.Unlock()
}

// Requests returns the asset names of the download requests so far,
// failed ones and ones for assets the release lacks included.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

const storagePrefix = "/storage/"

// ServeHTTP answers release downloads and their redirects.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if name, ok := strings.CutPrefix(r.URL.Path, storagePrefix); ok {
		s.serveAsset(w, r, name)
		return
	}
	prefix := "/" + s.repository + "/releases/download/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	tag, name, _ := strings.Cut(rest, "/")
	s.mu.Lock()
	s.requests = append(s.requests, name)
	fail := s.failFirst > 0
	if fail {
		s.failFirst--
	}
	s.mu.Unlock()
	if fail {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	if _, ok := s.assets[name]; !ok || tag != s.tag {
		http.NotFound(w, r)
		return
	}
	http.Redirect(w, r, storagePrefix+name, http.StatusFound)
}

func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	b, ok := s.assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	rate := s.rate
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/octet-stream")
	if rate <= 0 {
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
		return
	}
	// Ten chunks a second at the given rate.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	chunk := max(rate/10, 1)
	for rd := bytes.NewReader(b); rd.Len() > 0; {
		if _, err := io.CopyN(w, rd, int64(chunk)); err != nil && err != io.EOF {
			return
		}
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		if rd.Len() == 0 {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
