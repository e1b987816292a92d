package webhook_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/rectify-team/rectify/internal/webhook"
)

type wecomBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

func TestWeComBody(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	if err := webhook.New(srv.Client(), clock).Send(context.Background(), wecomTarget(srv.URL), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	if r.method != http.MethodPost || r.path != "/cgi-bin/webhook/send" || r.raw != "key="+wecomKey {
		t.Fatalf("%s %s?%s, want the configured URL untouched", r.method, r.path, r.raw)
	}
	if id := r.header.Get("X-Rectify-Event-Id"); id != "evt-000042" {
		t.Fatalf("X-Rectify-Event-Id %q", id)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("Content-Type %q", ct)
	}
	var b wecomBody
	decodeStrict(t, r.body, &b)
	want := wecomBody{MsgType: "markdown"}
	want.Markdown.Content = "**【交办】WT-2026-000012 会议纪要未按时报送**\n" +
		"责任单位:办公室\n请于 2026-03-09 前完成整改并提交佐证材料。\n截止:2026-03-09"
	if b != want {
		t.Fatalf("body\n%+v\nwant\n%+v", b, want)
	}
}

func TestWeComErrcodeIsAFailure(t *testing.T) {
	srv, _ := receiver(t, http.StatusOK, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_1_abc]"}`)
	err := webhook.New(srv.Client(), clock).Send(context.Background(), wecomTarget(srv.URL), message())
	we := asError(t, err)
	if we.Status != http.StatusOK || we.Code != 93000 || we.Message != "invalid webhook url, hint: [1700000000_1_abc]" || we.Target != "ops-wecom" {
		t.Fatalf("error %+v", we)
	}
	assertNoQuery(t, err.Error())
}
