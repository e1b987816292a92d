package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/webhook"
)

type dingtalkBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
}

func decodeStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
}

func TestDingTalkBody(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), dingtalkTarget(srv.URL, ""), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	if r.method != http.MethodPost || r.path != "/robot/send" {
		t.Fatalf("%s %s", r.method, r.path)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	if id := r.header.Get("X-Rectify-Event-Id"); id != "evt-000042" {
		t.Fatalf("X-Rectify-Event-Id %q", id)
	}
	var b dingtalkBody
	decodeStrict(t, r.body, &b)
	want := dingtalkBody{MsgType: "markdown"}
	want.Markdown.Title = "【交办】WT-2026-000012 会议纪要未按时报送"
	want.Markdown.Text = "### 【交办】WT-2026-000012 会议纪要未按时报送\n\n" +
		"责任单位:办公室\n\n请于 2026-03-09 前完成整改并提交佐证材料。\n\n截止:2026-03-09"
	if b != want {
		t.Fatalf("body\n%+v\nwant\n%+v", b, want)
	}
}

func TestDingTalkTitleIsOneLine(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	m := message()
	m.Title = "  【逾期】WT-2026-000013\r\n整改超期 "
	m.Text = ""
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), dingtalkTarget(srv.URL, ""), m); err != nil {
		t.Fatal(err)
	}
	var b dingtalkBody
	decodeStrict(t, one(t, got).body, &b)
	if b.Markdown.Title != "【逾期】WT-2026-000013 整改超期" || b.Markdown.Text != "### 【逾期】WT-2026-000013 整改超期" {
		t.Fatalf("markdown %+v", b.Markdown)
	}
}

// The signature is computed here from DingTalk's documented formula, not
// with the package's code.
func TestDingTalkSignature(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), dingtalkTarget(srv.URL, robotSecret), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)

	const timestamp = "1700000000000"
	mac := hmac.New(sha256.New, []byte(robotSecret))
	mac.Write([]byte(timestamp + "\n" + robotSecret))
	wantSign := base64.StdEncoding.EncodeToString(mac.Sum(nil))

	if got := r.query.Get("timestamp"); got != timestamp {
		t.Errorf("timestamp %q, want %q", got, timestamp)
	}
	if got := r.query.Get("sign"); got != wantSign {
		t.Errorf("sign %q, want %q", got, wantSign)
	}
	if got := r.query.Get("access_token"); got != accessToken {
		t.Errorf("access_token %q, want it kept", got)
	}
	if len(r.query) != 3 {
		t.Errorf("query %v, want access_token, timestamp and sign only", r.query)
	}
	// On the wire the base64 is query-escaped exactly once.
	if !strings.Contains(r.raw, "sign="+url.QueryEscape(wantSign)) {
		t.Errorf("raw query %q, want sign=%s", r.raw, url.QueryEscape(wantSign))
	}
}

func TestDingTalkWithoutSecretAddsNoSign(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), dingtalkTarget(srv.URL, ""), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	if r.raw != "access_token="+accessToken {
		t.Fatalf("query %q, want the configured one untouched", r.raw)
	}
}

func TestDingTalkRefusals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reply    string
		wantCode int
		wantMsg  string
	}{
		{"sign mismatch", `{"errcode":310000,"errmsg":"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"}`, 310000, "sign not match"},
		{"too fast", `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, 130101, "send too fast"},
		{"refused without errmsg", `{"errcode":300001}`, 300001, "refused"},
		{"no errcode", `{"errmsg":"ok"}`, 0, "unparsable reply"},
		{"html", `<html><body>502 Bad Gateway</body></html>`, 0, "unparsable reply: <html><body>502 Bad Gateway</body></html>"},
		{"empty", ``, 0, "unparsable reply"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, _ := receiver(t, http.StatusOK, tc.reply)
			err := webhook.New(srv.Client(), clock).Send(context.Background(), dingtalkTarget(srv.URL, robotSecret), message())
			we := asError(t, err)
			if we.Status != http.StatusOK || we.Code != tc.wantCode || !strings.HasPrefix(we.Message, tc.wantMsg) {
				t.Fatalf("error %+v, want code %d and message %q", we, tc.wantCode, tc.wantMsg)
			}
			assertNoQuery(t, err.Error())
		})
	}
}
