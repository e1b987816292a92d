package web_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/web"
)

// The list offers the API's assignee and creation-date filters, and its
// export link carries exactly the filters the list shows.
func TestListFiltersByAssigneeAndCreationAndExportsTheSame(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	assigned := c.e.Drive(t, "assigned")    // to owner1
	unassigned := c.e.Register(t, "未交办的问题") // to nobody
	b := c.browser()
	b.login("leader")
	_, page := b.do("GET", "/problems", nil, nil)
	for _, want := range []string{`name="assignee_id"`, `name="created_from"`, `name="created_to"`,
		fmt.Sprintf(`<option value="%d">owner1</option>`, c.e.Users["owner1"].ID)} {
		if !strings.Contains(page, want) {
			t.Fatalf("the list's filters lack %s", want)
		}
	}
	today := c.e.Svc.Core.Today().String()
	q := url.Values{"assignee_id": {fmt.Sprint(c.e.Users["owner1"].ID)}, "created_from": {today}, "created_to": {today}}
	_, page = b.do("GET", "/problems?"+q.Encode(), nil, nil)
	if !strings.Contains(page, assigned.Code) || strings.Contains(page, unassigned.Code) {
		t.Fatalf("the list filtered by assignee shows the wrong problems:\n%s", page)
	}
	if !strings.Contains(page, `href="/problems/export.xlsx?`+strings.ReplaceAll(q.Encode(), "&", "&amp;")+`"`) {
		t.Fatalf("the export link does not carry the list's filters:\n%s", page)
	}
	q.Set("created_from", c.e.Svc.Core.Today().AddDays(1).String())
	q.Del("created_to")
	if _, page = b.do("GET", "/problems?"+q.Encode(), nil, nil); strings.Contains(page, assigned.Code) {
		t.Fatal("a problem created today passes a filter from tomorrow")
	}
}
