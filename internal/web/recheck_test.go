package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/web"
)

// A closed problem whose 回头看 is due offers the working group a form on its
// page; a relapse without a deadline is refused beside the field, in Chinese;
// a relapse with one reopens the problem.
func TestTheWorkingGroupRecordsARecheck(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	ctx := t.Context()
	ev, err := c.e.Svc.Evidence.Upload(ctx, c.e.Caller("owner1"), "整改.pdf", strings.NewReader("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.e.Svc.Lifecycle.Register(ctx, c.e.Caller("inspector"), app.ProblemInput{Title: "需回头看的问题", Description: "描述", CategoryID: 5,
		Severity: domain.SeveritySerious, Source: domain.SourceInspection, UnitID: c.e.Units["一班"].ID})
	if err != nil {
		t.Fatal(err)
	}
	step := func(q *domain.Problem, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		p = q
	}
	step(c.e.Svc.Lifecycle.Assign(ctx, c.e.Caller("verifier"), p.ID, 0, app.AssignInput{AssigneeID: c.e.Users["owner1"].ID, Measures: "整改"}))
	step(c.e.Svc.Lifecycle.Accept(ctx, c.e.Caller("owner1"), p.ID, 0, "签收"))
	step(c.e.Svc.Lifecycle.SubmitFix(ctx, c.e.Caller("owner1"), p.ID, 0, app.SubmitInput{Note: "已整改", AttachmentIDs: []int64{ev.ID}}))
	step(c.e.Svc.Lifecycle.Verify(ctx, c.e.Caller("verifier"), p.ID, 0, true, "通过"))

	verifier := c.browser()
	verifier.login("verifier2")
	path := fmt.Sprintf("/problems/%d", p.ID)
	if _, page := verifier.do("GET", path, nil, nil); strings.Contains(page, `id="act-recheck"`) {
		t.Fatal("a re-check not yet due is offered")
	}
	c.e.Clock.Advance(31 * 24 * time.Hour)
	verifier = c.browser() // the first session expired meanwhile
	verifier.login("verifier2")
	_, page := verifier.do("GET", path, nil, nil)
	if !strings.Contains(page, `id="act-recheck"`) {
		t.Fatalf("the due re-check is not offered:\n%s", page)
	}
	m := regexpFind(`name="recheck_id" value="(\d+)"`, page)
	form := url.Values{"csrf": {csrfOf(t, page)}, "version": {fmt.Sprint(p.Version)}, "recheck_id": {m},
		"result": {"relapsed"}, "note": {"台账又缺了一个月"}}
	res, body := verifier.do("POST", path+"/recheck", form, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "问题反弹时必须填写新的期限") ||
		!strings.Contains(body, "台账又缺了一个月") {
		t.Fatalf("a relapse without a deadline: %d\n%s", res.StatusCode, body)
	}
	form.Set("deadline", c.e.Svc.Core.Today().AddDays(10).String())
	if res, _ := verifier.do("POST", path+"/recheck", form, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("a relapse with a deadline: %d", res.StatusCode)
	}
	got, err := c.e.Svc.Lifecycle.Problem(ctx, c.e.Caller("verifier"), p.ID)
	if err != nil || got.Status != domain.StatusRectifying || got.ReopenCount != 1 {
		t.Fatalf("after the relapse: %v %+v", err, got)
	}
}

func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}
