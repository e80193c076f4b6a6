package ghsim

import (
	"fmt"
	"strconv"
	"strings"
)

// page reads per_page (default 30, at most 100) and page (from 1), sets
// the Link header GitHub would send for a list of total items, and
// returns the slice bounds of the requested page (empty past the end).
func (c *call) page(total int) (lo, hi int) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per < 1 {
		per = 30
	}
	per = min(per, 100)
	pg, err := strconv.Atoi(q.Get("page"))
	if err != nil || pg < 1 {
		pg = 1
	}
	last := max(1, (total+per-1)/per)

	var links []string
	add := func(n int, rel string) {
		links = append(links, fmt.Sprintf("<%s>; rel=%q", c.pageURL(n), rel))
	}
	if pg > 1 {
		add(pg-1, "prev")
	}
	if pg < last {
		add(pg+1, "next")
		add(last, "last")
	}
	if pg > 1 {
		add(1, "first")
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}

	lo = min((pg-1)*per, total)
	hi = min(lo+per, total)
	return lo, hi
}

// pageURL is the absolute URL of page n of the current list. Like GitHub,
// it names the repository by id ("repositories/123/...") and keeps the
// caller's other query parameters in their order, with page last.
func (c *call) pageURL(n int) string {
	path := c.rpath
	if c.repo != nil {
		prefix := "repos/" + c.params["owner"] + "/" + c.params["repo"]
		if tail, ok := strings.CutPrefix(path, prefix); ok {
			path = "repositories/" + strconv.FormatInt(c.repo.id, 10) + tail
		}
	}
	var keep []string
	for _, kv := range strings.Split(c.r.URL.RawQuery, "&") {
		if kv == "" || kv == "page" || strings.HasPrefix(kv, "page=") {
			continue
		}
		keep = append(keep, kv)
	}
	keep = append(keep, "page="+strconv.Itoa(n))
	return c.apiBase() + path + "?" + strings.Join(keep, "&")
}
