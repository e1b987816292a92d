package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/web"
)

var badgePattern = regexp.MustCompile(`<span class="badge">(\d+)</span>`)

// unreadBadge is the count the page's menu shows; 0 without a badge.
func unreadBadge(t *testing.T, page string) int {
	t.Helper()
	m := badgePattern.FindStringSubmatch(page)
	if m == nil {
		return 0
	}
	var n int
	_, _ = fmt.Sscan(m[1], &n)
	return n
}

// Opening one message from the inbox marks that one read and opens its
// problem; another can be marked read alone; the badge follows.
func TestInboxMarksOneMessageRead(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	c.e.Drive(t, "assigned")
	c.e.Drive(t, "assigned")
	second := c.e.Drive(t, "assigned")
	owner := c.browser()
	owner.login("owner1")
	_, page := owner.do("GET", "/inbox", nil, nil)
	before := unreadBadge(t, page)
	ids := regexp.MustCompile(`id="open-(\d+)"`).FindAllStringSubmatch(page, -1)
	if before < 3 || len(ids) < 3 {
		t.Fatalf("the owner's inbox after two assignments: badge %d, %d messages\n%s", before, len(ids), page)
	}
	// The newest message is about the second problem.
	msg := ids[0][1]
	if !strings.Contains(page, `name="problem_id" value="`+fmt.Sprint(second.ID)+`"`) {
		t.Fatalf("no message opens problem %d", second.ID)
	}
	pid := regexp.MustCompile(`id="message-` + msg + `"[\s\S]*?name="problem_id" value="(\d+)"`).FindStringSubmatch(page)[1]
	res, _ := owner.do("POST", "/inbox/"+msg+"/open", url.Values{"csrf": {csrfOf(t, page)}, "problem_id": {pid}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/problems/"+pid {
		t.Fatalf("opening a message: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, page = owner.do("GET", "/problems/"+pid, nil, nil)
	if got := unreadBadge(t, page); got != before-1 {
		t.Fatalf("the badge after opening one message: %d, want %d", got, before-1)
	}
	_, page = owner.do("GET", "/inbox", nil, nil)
	if regexp.MustCompile(`class="row unread" id="message-` + msg + `"`).MatchString(page) {
		t.Fatal("the opened message is still unread")
	}
	// Another, marked read without opening it; the rest stay unread.
	other := ids[1][1]
	res, _ = owner.do("POST", "/inbox/read", url.Values{"csrf": {csrfOf(t, page)}, "id": {other}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("marking one read: %d", res.StatusCode)
	}
	_, page = owner.do("GET", "/inbox", nil, nil)
	if got := unreadBadge(t, page); got != before-2 {
		t.Fatalf("the badge after marking a second one read: %d, want %d", got, before-2)
	}
	if strings.Contains(page, `id="read-`+other+`"`) {
		t.Fatal("the message marked read still offers to be marked read")
	}
	// Somebody else's message is not theirs to mark: nothing changes for its owner.
	left := regexp.MustCompile(`id="read-(\d+)"`).FindStringSubmatch(page)
	if left == nil {
		t.Fatal("no unread message is left")
	}
	verifier := c.browser()
	verifier.login("verifier")
	_, vpage := verifier.do("GET", "/inbox", nil, nil)
	if res, _ := verifier.do("POST", "/inbox/"+left[1]+"/open", url.Values{"csrf": {csrfOf(t, vpage)}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("opening another's message id: %d", res.StatusCode)
	}
	_, page = owner.do("GET", "/inbox", nil, nil)
	if got := unreadBadge(t, page); got != before-2 {
		t.Fatalf("another person's open changed the owner's inbox: %d, want %d", got, before-2)
	}
}
