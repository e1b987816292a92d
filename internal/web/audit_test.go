package web_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/web"
)

var auditRow = regexp.MustCompile(`<tr( class="refused")?><td>\d+</td><td>[^<]*</td><td>[^<]*</td><td>([^<]*)</td>`)

// The trail's page filters as the API does, in the viewer's language.
func TestAuditPageFiltersByOutcomeAndAction(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Drive(t, "submitted")
	if _, err := c.e.Svc.Lifecycle.Verify(t.Context(), c.e.Caller("owner1"), p.ID, 0, true, "自己验收"); err == nil {
		t.Fatal("the owner verified")
	}
	leader := c.browser()
	leader.login("leader")
	res, page := leader.do("GET", "/audit?outcome=refused", nil, nil)
	rows := auditRow.FindAllStringSubmatch(page, -1)
	if res.StatusCode != http.StatusOK || len(rows) == 0 {
		t.Fatalf("refused entries: %d, %d rows\n%s", res.StatusCode, len(rows), page)
	}
	for _, r := range rows {
		if r[1] == "" {
			t.Fatalf("an entry that was not refused among the refused: %q", r[0])
		}
	}
	if !strings.Contains(page, "被拒绝") || !strings.Contains(page, "您的角色不能办理此操作") {
		t.Fatalf("the refusal is not told in Chinese:\n%s", page)
	}
	_, page = leader.do("GET", "/audit?action=register&object_type=problem", nil, nil)
	rows = auditRow.FindAllStringSubmatch(page, -1)
	if len(rows) != 1 || rows[0][2] != "登记" {
		t.Fatalf("register entries: %v", rows)
	}
	if res, _ := leader.do("GET", "/audit?action=nonsense", nil, nil); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("an unknown action: %d", res.StatusCode)
	}
}

// A trail altered out of band fails 校验 on the page, which names the first
// bad entry by its number and says why in Chinese.
func TestAuditVerificationNamesTheBadEntryInChinese(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	p := c.e.Register(t, "被篡改的记录")
	entries, err := c.e.Svc.Lifecycle.History(t.Context(), c.e.Caller("leader"), p.ID, 0, 10)
	if err != nil || len(entries) == 0 {
		t.Fatalf("history: %v %d", err, len(entries))
	}
	seq := entries[0].Seq
	res, err := c.e.DB.SQL().ExecContext(t.Context(), "UPDATE audit_entries SET reason = ? WHERE id = ?", "补写的理由", seq)
	if err != nil {
		t.Fatalf("tamper: %v", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tamper changed %d rows", n)
	}
	leader := c.browser()
	leader.login("leader")
	_, page := leader.do("GET", "/audit?verify=1", nil, nil)
	m := regexp.MustCompile(`id="verify-result">([^<]*)<`).FindStringSubmatch(page)
	if m == nil || !strings.Contains(m[1], fmt.Sprintf("第 %d 条起有问题", seq)) || !strings.Contains(m[1], "记录被篡改") {
		t.Fatalf("the verification of a tampered trail says %v", m)
	}
}
