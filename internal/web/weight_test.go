package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/web"
)

var assetPattern = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

// Every page but the board weighs under 200 KB with the files it loads, and
// only the board loads the chart library.
func TestOnlyTheBoardLoadsTheChartsAndOtherPagesStayLight(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Drive(t, "submitted")
	pages := map[string][]string{
		"inspector": {"/", "/problems/new", "/problems/import", "/problems", fmt.Sprintf("/problems/%d/edit", c.e.Register(t, "待修改").ID)},
		"owner1":    {"/", "/todo", "/inbox", "/password", fmt.Sprintf("/problems/%d", p.ID)},
		"verifier":  {"/", "/problems?status=submitted", fmt.Sprintf("/problems/%d", p.ID), "/notices", "/contributions", "/reports"},
		"leader":    {"/", "/evaluation", "/audit", "/notices", "/reports", "/board", "/board?wall=1"},
		"admin":     {"/admin"},
	}
	size := map[string]int{} // each asset's size, fetched once
	boards := 0
	for user, paths := range pages {
		b := c.browser()
		b.login(user)
		for _, path := range paths {
			res, body := b.do("GET", path, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s GET %s: %d", user, path, res.StatusCode)
			}
			weight := len(body)
			charts := false
			for _, m := range assetPattern.FindAllStringSubmatch(body, -1) {
				asset := m[1]
				if strings.Contains(asset, "echarts") {
					charts = true
				}
				if _, ok := size[asset]; !ok {
					res, content := b.do("GET", asset, nil, nil)
					if res.StatusCode != http.StatusOK {
						t.Fatalf("%s (on %s): %d", asset, path, res.StatusCode)
					}
					size[asset] = len(content)
				}
				weight += size[asset]
			}
			board := strings.HasPrefix(path, "/board")
			switch {
			case board && !charts:
				t.Errorf("the board %s does not load the chart library", path)
			case board:
				boards++
			case charts:
				t.Errorf("%s loads the chart library", path)
			case weight >= 200<<10:
				t.Errorf("%s weighs %d bytes with its files, over 200 KB", path, weight)
			}
		}
	}
	if boards != 2 {
		t.Fatalf("%d board pages checked", boards)
	}
}
