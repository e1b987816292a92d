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

// fieldError is the reason shown beside the field with the given id.
func fieldError(body, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>(?:[^<]*</(?:textarea|select)>)?(?:<span class="field-error" role="alert">([^<]*)</span>)?`).
		FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// A form the server refuses says why in the viewer's language, beside the
// field where the reason concerns one, and keeps what was typed.
func TestRefusalsSpeakTheViewersLanguage(t *testing.T) {
	t.Parallel()
	c := newConsole(t, web.Options{})
	inspector := c.browser()
	inspector.login("inspector")
	register := func(lang string) (int, string) {
		_, page := inspector.do("GET", "/problems/new?lang="+lang, nil, nil)
		res, body := inspector.do("POST", "/problems", url.Values{"csrf": {csrfOf(t, page)}, "title": {"未来发现的问题"},
			"description": {"现场描述"}, "severity": {"serious"}, "source": {"inspection"}, "category_id": {"5"},
			"unit_id": {fmt.Sprint(c.e.Units["一班"].ID)}, "found_at": {"2999-01-01"}}, nil)
		return res.StatusCode, body
	}
	status, body := register("zh")
	if status != http.StatusBadRequest || fieldError(body, "f-found") != "不能晚于今天" ||
		!strings.Contains(body, `value="未来发现的问题"`) || strings.Contains(body, "lies in the future") {
		t.Fatalf("a date found in the future, on a Chinese page: %d, beside the field %q\n%s", status, fieldError(body, "f-found"), body)
	}
	if status, body = register("en"); status != http.StatusBadRequest || fieldError(body, "f-found") != "lies in the future" {
		t.Fatalf("the same on an English page: %d %q", status, fieldError(body, "f-found"))
	}
	_, _ = inspector.do("GET", "/?lang=zh", nil, nil)

	// The working group sends a fix back without a note.
	p := c.e.Drive(t, "submitted")
	verifier := c.browser()
	verifier.login("verifier")
	_, page := verifier.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	res, body := verifier.do("POST", fmt.Sprintf("/problems/%d/verify", p.ID), url.Values{"csrf": {csrfOf(t, page)},
		"version": {fmt.Sprint(p.Version)}, "passed": {"false"}, "note": {"  "}}, nil)
	if res.StatusCode != http.StatusBadRequest || !regexp.MustCompile(`<span class="field-error" role="alert">必填</span>`).MatchString(body) ||
		strings.Contains(body, "is required") {
		t.Fatalf("a send-back without a note: %d\n%s", res.StatusCode, body)
	}

	// The owner tries the working group's action: the domain's refusal, in Chinese.
	owner := c.browser()
	owner.login("owner1")
	_, page = owner.do("GET", fmt.Sprintf("/problems/%d", p.ID), nil, nil)
	res, body = owner.do("POST", fmt.Sprintf("/problems/%d/verify", p.ID), url.Values{"csrf": {csrfOf(t, page)},
		"version": {fmt.Sprint(p.Version)}, "passed": {"true"}, "note": {"自己验收"}}, nil)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "您的角色不能办理此操作") || strings.Contains(body, "requires") {
		t.Fatalf("the owner verifying: %d\n%s", res.StatusCode, body)
	}

	// An action the state no longer allows, sent to the URL directly: the
	// current state, in Chinese.
	res, body = owner.do("POST", fmt.Sprintf("/problems/%d/accept", p.ID), url.Values{"csrf": {csrfOf(t, page)},
		"version": {fmt.Sprint(p.Version)}, "note": {"再签收"}}, nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "待验收") || strings.Contains(body, "not allowed") {
		t.Fatalf("an accept of a submitted problem: %d\n%s", res.StatusCode, body)
	}

	// The password policy's reasons.
	_, page = owner.do("GET", "/password", nil, nil)
	res, body = owner.do("POST", "/password", url.Values{"csrf": {csrfOf(t, page)}, "old": {"wrong-password-1"},
		"new": {"password"}, "confirm": {"password"}}, nil)
	if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "characters") || strings.Contains(body, "common") ||
		!regexp.MustCompile(`<span class="field-error" role="alert">[^<]*[\p{Han}]`).MatchString(body) {
		t.Fatalf("a weak new password: %d\n%s", res.StatusCode, body)
	}
	res, body = owner.do("POST", "/password", url.Values{"csrf": {csrfOf(t, page)}, "old": {"x"},
		"new": {"a-long-new-pass-9"}, "confirm": {"another-one-9x"}}, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "两次输入的新密码不一致") {
		t.Fatalf("two different new passwords: %d\n%s", res.StatusCode, body)
	}
}
