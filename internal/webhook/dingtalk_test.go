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

// A title or measures written by a user cannot add links, images or HTML to
// the robots' Markdown.
func TestMarkdownCannotBeInjected(t *testing.T) {
	m := message()
	m.Title = "【交办】[点此查看](http://evil.example/phish) ![](http://evil.example/i.png)"
	m.Text = "整改措施：![x](http://evil.example/t.png)\n<font color=\"warning\">[x](javascript:alert(1))</font> `code` **粗**"
	bodies := map[string]string{}
	for name, target := range map[string]func(string) webhook.Target{
		"dingtalk": func(u string) webhook.Target { return dingtalkTarget(u, "") },
		"wecom":    wecomTarget,
	} {
		srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
		if err := webhook.New(srv.Client(), clock).Send(context.Background(), target(srv.URL), m); err != nil {
			t.Fatal(err)
		}
		r := one(t, got)
		if name == "dingtalk" {
			var b dingtalkBody
			decodeStrict(t, r.body, &b)
			bodies[name] = b.Markdown.Text
		} else {
			var b wecomBody
			decodeStrict(t, r.body, &b)
			bodies[name] = strings.Replace(b.Markdown.Content, "**", "", 2) // the title's own bold
		}
	}
	for name, md := range bodies {
		for _, bad := range []string{"](", "![", "[x", "<font", "http://", "javascript:alert(", "`", "**"} {
			if strings.Contains(md, bad) {
				t.Errorf("%s markdown holds %q: %s", name, bad, md)
			}
		}
		// The words are all still there, to be read.
		for _, word := range []string{"点此查看", "evil.example/phish", "整改措施", "code", "粗"} {
			if !strings.Contains(md, word) {
				t.Errorf("%s markdown lost %q: %s", name, word, md)
			}
		}
	}
}
