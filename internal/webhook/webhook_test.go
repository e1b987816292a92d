package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/webhook"
)

// Credentials that must never appear in an error or a log line.
const (
	accessToken = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	robotSecret = "SEC2f5c8a1e9d7b3c6f4a0e8d2b7c9f1a3e5d7b9c0a2e4f6a8b1c3d5e7f9a0b2c4d6e"
	wecomKey    = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	hmacKey     = "whsec-rectify-test-key"
)

var fixedNow = time.UnixMilli(1700000000000)

func clock() time.Time { return fixedNow }

// received is one request as the receiving server saw it.
type received struct {
	method string
	path   string
	query  url.Values
	raw    string // the raw query
	header http.Header
	body   []byte
}

// receiver starts a server that records each request and answers with status
// and reply. Recorded requests arrive on the channel, which also orders them
// before the test's reads for the race detector.
func receiver(t *testing.T, status int, reply string) (*httptest.Server, <-chan received) {
	t.Helper()
	got := make(chan received, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{method: r.Method, path: r.URL.Path, query: r.URL.Query(), raw: r.URL.RawQuery, header: r.Header.Clone(), body: body}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	return srv, got
}

func one(t *testing.T, got <-chan received) received {
	t.Helper()
	select {
	case r := <-got:
		return r
	default:
		t.Fatal("the receiver got no request")
		return received{}
	}
}

func message() webhook.Message {
	return webhook.Message{
		EventID:    "evt-000042",
		Kind:       "problem.assigned",
		OccurredAt: time.Date(2026, 3, 2, 9, 30, 15, 0, time.FixedZone("CST", 8*3600)),
		Title:      "【交办】WT-2026-000012 会议纪要未按时报送",
		Text:       "责任单位:办公室\n请于 2026-03-09 前完成整改并提交佐证材料。\n截止:2026-03-09",
		Data:       []byte(`{"problem":"WT-2026-000012","due":"2026-03-09"}`),
	}
}

func dingtalkTarget(srvURL, secret string) webhook.Target {
	return webhook.Target{Name: "ops-dingtalk", Kind: webhook.KindDingTalk, URL: srvURL + "/robot/send?access_token=" + accessToken, Secret: secret}
}

func wecomTarget(srvURL string) webhook.Target {
	return webhook.Target{Name: "ops-wecom", Kind: webhook.KindWeCom, URL: srvURL + "/cgi-bin/webhook/send?key=" + wecomKey}
}

func genericTarget(srvURL string) webhook.Target {
	return webhook.Target{Name: "audit-sink", Kind: webhook.KindGeneric, URL: srvURL + "/hooks/rectify", Secret: hmacKey}
}

// asError asserts err is a *webhook.Error and returns it.
func asError(t *testing.T, err error) *webhook.Error {
	t.Helper()
	var we *webhook.Error
	if !errors.As(err, &we) {
		t.Fatalf("error %v (%T), want *webhook.Error", err, err)
	}
	return we
}

// assertNoCredentials fails if s shows any secret or robot credential.
func assertNoCredentials(t *testing.T, s string) {
	t.Helper()
	for _, c := range []string{accessToken, robotSecret, wecomKey, hmacKey, url.QueryEscape(robotSecret)} {
		// A prefix too: a credential cut short by truncation is still a leak.
		if strings.Contains(s, c[:10]) {
			t.Errorf("%q shows %q", s, c)
		}
	}
}

// assertNoQuery fails if s shows a URL's query: what this package itself
// prints of a URL is scheme://host/path only.
func assertNoQuery(t *testing.T, s string) {
	t.Helper()
	assertNoCredentials(t, s)
	for _, c := range []string{"?", "access_token", "key=", "sign=", "timestamp="} {
		if strings.Contains(s, c) {
			t.Errorf("%q shows %q", s, c)
		}
	}
}

func TestWants(t *testing.T) {
	all := webhook.Target{Name: "all"}
	some := webhook.Target{Name: "some", Events: []string{"problem.assigned", "problem.overdue"}}
	for _, tc := range []struct {
		target webhook.Target
		kind   string
		want   bool
	}{
		{all, "problem.assigned", true},
		{all, "anything.else", true},
		{some, "problem.assigned", true},
		{some, "problem.overdue", true},
		{some, "problem.closed", false},
		{some, "", false},
		{some, "problem.assigned ", false},
	} {
		if got := tc.target.Wants(tc.kind); got != tc.want {
			t.Errorf("%s.Wants(%q) = %v, want %v", tc.target.Name, tc.kind, got, tc.want)
		}
	}
}

func TestTargetStringHidesCredentials(t *testing.T) {
	for _, tc := range []struct {
		target webhook.Target
		want   string
	}{
		{dingtalkTarget("https://oapi.dingtalk.com", robotSecret), "ops-dingtalk (dingtalk) https://oapi.dingtalk.com/robot/send"},
		{wecomTarget("https://qyapi.weixin.qq.com"), "ops-wecom (wecom) https://qyapi.weixin.qq.com/cgi-bin/webhook/send"},
		{webhook.Target{Name: "g", Kind: webhook.KindGeneric, URL: "https://bob:" + hmacKey + "@example.com/in?token=" + accessToken + "#x", Secret: hmacKey},
			"g (generic) https://example.com/in"},
		{webhook.Target{Name: "bad", Kind: webhook.KindGeneric, URL: "://nope?" + accessToken}, "bad (generic) <invalid url>"},
	} {
		got := tc.target.String()
		if got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
		assertNoQuery(t, got)
	}
}

func TestSendRefusesWhatCannotBeSent(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	s := webhook.New(srv.Client(), clock)
	noSecret := genericTarget(srv.URL)
	noSecret.Secret = ""
	noID := message()
	noID.EventID = ""
	noKind := message()
	noKind.Kind = ""
	arrayData := message()
	arrayData.Data = []byte(`[1,2]`)
	brokenData := message()
	brokenData.Data = []byte(`{"a":`)
	for _, tc := range []struct {
		name   string
		target webhook.Target
		msg    webhook.Message
		want   string
	}{
		{"generic without secret", noSecret, message(), "secret"},
		{"unknown kind", webhook.Target{Name: "x", Kind: "slack", URL: srv.URL}, message(), "kind"},
		{"relative url", webhook.Target{Name: "x", Kind: webhook.KindWeCom, URL: "/send?key=" + wecomKey}, message(), "url"},
		{"no event id", dingtalkTarget(srv.URL, ""), noID, "event id"},
		{"no kind", dingtalkTarget(srv.URL, ""), noKind, "kind"},
		{"data not an object", genericTarget(srv.URL), arrayData, "data"},
		{"data not JSON", genericTarget(srv.URL), brokenData, "data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(context.Background(), tc.target, tc.msg)
			we := asError(t, err)
			if we.Status != 0 || we.Code != 0 || !strings.Contains(we.Message, tc.want) {
				t.Fatalf("error %+v, want status 0, code 0 and a message about %s", we, tc.want)
			}
			assertNoQuery(t, err.Error())
		})
	}
	if len(got) != 0 {
		t.Fatalf("%d requests were sent for messages that were refused", len(got))
	}
}

func TestServerErrorIsAnErrorWithStatus(t *testing.T) {
	srv, got := receiver(t, http.StatusInternalServerError, "upstream exploded")
	s := webhook.New(srv.Client(), clock)
	for _, target := range []webhook.Target{dingtalkTarget(srv.URL, robotSecret), wecomTarget(srv.URL), genericTarget(srv.URL)} {
		err := s.Send(context.Background(), target, message())
		we := asError(t, err)
		if we.Status != http.StatusInternalServerError || we.Code != 0 || we.Target != target.Name {
			t.Errorf("%s: error %+v, want status 500, code 0", target.Kind, we)
		}
		if msg := err.Error(); !strings.Contains(msg, "HTTP 500") || !strings.Contains(msg, "upstream exploded") {
			t.Errorf("%s: %q, want the status and the reply's start", target.Kind, msg)
		}
		one(t, got)
	}
}

func TestRobotErrcodeOnErrorStatusIsKept(t *testing.T) {
	srv, _ := receiver(t, http.StatusBadRequest, `{"errcode":40008,"errmsg":"invalid message type"}`)
	err := webhook.New(srv.Client(), clock).Send(context.Background(), wecomTarget(srv.URL), message())
	we := asError(t, err)
	if we.Status != http.StatusBadRequest || we.Code != 40008 || we.Message != "invalid message type" {
		t.Fatalf("error %+v", we)
	}
	if got, want := err.Error(), "webhook ops-wecom: HTTP 400: errcode 40008: invalid message type"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
}

// A receiver may echo the request, or the secret it was given, back; the
// error must not pass them on.
func TestErrorsNeverShowCredentials(t *testing.T) {
	echo := func(secret string, pad int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			status := http.StatusBadGateway
			if r.URL.Query().Has("access_token") {
				status = http.StatusOK
			}
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"errcode":300001,"errmsg":"`+strings.Repeat("x", pad)+`bad request to `+r.URL.String()+` with `+secret+`"}`)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	refused := httptest.NewServer(http.NotFoundHandler())
	refused.Close() // nothing listens there any more

	s := webhook.New(nil, clock)
	for _, tc := range []struct {
		name   string
		target webhook.Target
		echoed bool // the reply quotes the URL, whose values are hidden
	}{
		{"dingtalk errcode echoing the URL and secret", dingtalkTarget(echo(robotSecret, 0), robotSecret), true},
		{"wecom error status echoing the URL", wecomTarget(echo(wecomKey, 0)), true},
		{"generic error status echoing the secret", genericTarget(echo(hmacKey, 0)), true},
		// The message is cut at 300 runes; the secret straddles the cut.
		{"long errmsg ending in the secret", dingtalkTarget(echo(robotSecret, 100), robotSecret), true},
		{"long reply ending in the secret", genericTarget(echo(hmacKey, 200)), true},
		{"dingtalk connection refused", dingtalkTarget(refused.URL, robotSecret), false},
		{"wecom connection refused", wecomTarget(refused.URL), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Send(context.Background(), tc.target, message())
			_ = asError(t, err) // asserts the error's type; the text is checked below
			if tc.echoed {
				assertNoCredentials(t, err.Error())
			} else {
				assertNoQuery(t, err.Error())
			}
			t.Log(err)
		})
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	moved, got := receiver(t, http.StatusOK, `{"errcode":0,"errmsg":"ok"}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, moved.URL+"/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	err := webhook.New(srv.Client(), clock).Send(context.Background(), genericTarget(srv.URL), message())
	if we := asError(t, err); we.Status != http.StatusFound {
		t.Fatalf("error %+v, want status 302", we)
	}
	if len(got) != 0 {
		t.Fatal("the redirect was followed")
	}
}

// stallingServer answers nothing until the test ends or the client goes away.
// With headers set, it sends them and part of a body first, then stalls.
func stallingServer(t *testing.T, headers bool) *httptest.Server {
	t.Helper()
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if headers {
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, `{"errcode":`)
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-done:
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

// within runs send and fails if it takes longer than limit.
func within(t *testing.T, limit time.Duration, send func() error) error {
	t.Helper()
	start := time.Now()
	err := send()
	if took := time.Since(start); took > limit {
		t.Fatalf("took %s, want under %s", took, limit)
	}
	return err
}

func TestContextEndsTheAttemptPromptly(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers bool
		target  func(string) webhook.Target
		want    error
	}{
		{"deadline while waiting for headers", false, genericTarget, context.DeadlineExceeded},
		{"deadline while reading a robot's reply", true, wecomTarget, context.DeadlineExceeded},
		{"cancel while waiting for headers", false, func(u string) webhook.Target { return dingtalkTarget(u, robotSecret) }, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := stallingServer(t, tc.headers)
			s := webhook.New(srv.Client(), clock)
			ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
			defer cancel()
			if errors.Is(tc.want, context.Canceled) {
				time.AfterFunc(100*time.Millisecond, cancel)
			}
			err := within(t, 3*time.Second, func() error { return s.Send(ctx, tc.target(srv.URL), message()) })
			we := asError(t, err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v does not wrap %v", err, tc.want)
			}
			if tc.headers && we.Status != http.StatusOK || !tc.headers && we.Status != 0 {
				t.Fatalf("status %d", we.Status)
			}
			assertNoQuery(t, err.Error())
		})
	}
}

func TestCanceledContextSendsNothing(t *testing.T) {
	srv, got := receiver(t, http.StatusOK, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := webhook.New(srv.Client(), clock).Send(ctx, genericTarget(srv.URL), message())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(got) != 0 {
		t.Fatal("a request was sent with a canceled context")
	}
}

func TestClientTimeoutEndsTheAttempt(t *testing.T) {
	srv := stallingServer(t, false)
	client := srv.Client()
	client.Timeout = 150 * time.Millisecond
	err := within(t, 3*time.Second, func() error {
		return webhook.New(client, clock).Send(context.Background(), genericTarget(srv.URL), message())
	})
	if we := asError(t, err); we.Status != 0 {
		t.Fatalf("error %+v", we)
	}
}

// An endless reply is read no further than 64 KiB: the attempt ends without
// waiting for the server, which would stream until the test ends.
func TestOversizedRepliesDoNotHang(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		target  func(string) webhook.Target
		wantErr bool
	}{
		{"generic 200", http.StatusOK, genericTarget, false},
		{"generic 500", http.StatusInternalServerError, genericTarget, true},
		{"dingtalk 200", http.StatusOK, func(u string) webhook.Target { return dingtalkTarget(u, robotSecret) }, true},
		{"wecom 200", http.StatusOK, wecomTarget, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"`)
				chunk := []byte(strings.Repeat("x", 32<<10))
				for {
					if _, err := w.Write(chunk); err != nil {
						return // the client has gone
					}
					select {
					case <-done:
						return
					case <-r.Context().Done():
						return
					default:
					}
				}
			}))
			t.Cleanup(func() { close(done); srv.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			err := within(t, 5*time.Second, func() error {
				return webhook.New(srv.Client(), clock).Send(ctx, tc.target(srv.URL), message())
			})
			if !tc.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			we := asError(t, err)
			if we.Status != tc.status || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %+v", we)
			}
			if len(err.Error()) > 400 {
				t.Fatalf("error of %d bytes: the reply was not cut short", len(err.Error()))
			}
			if tc.status == http.StatusOK && !strings.Contains(err.Error(), "64 KiB") {
				t.Fatalf("error %q does not say the reply was too large", err)
			}
		})
	}
}

func TestNewWithoutClientOrClock(t *testing.T) {
	srv, got := receiver(t, http.StatusNoContent, "")
	before := time.Now().Unix()
	if err := webhook.New(nil, nil).Send(context.Background(), genericTarget(srv.URL), message()); err != nil {
		t.Fatal(err)
	}
	r := one(t, got)
	if err := webhook.VerifyGeneric(hmacKey, r.header, r.body, time.Now(), 5*time.Second); err != nil {
		t.Fatalf("signed with the wall clock %d..: %v", before, err)
	}
}

func TestErrorText(t *testing.T) {
	for _, tc := range []struct {
		err  *webhook.Error
		want string
	}{
		{&webhook.Error{Target: "ops", Status: 200, Code: 310000, Message: "sign not match"}, "webhook ops: errcode 310000: sign not match"},
		{&webhook.Error{Target: "ops", Status: 503, Message: "unexpected status"}, "webhook ops: HTTP 503: unexpected status"},
		{&webhook.Error{Target: "ops", Message: "post https://h/p: connection refused"}, "webhook ops: post https://h/p: connection refused"},
		{&webhook.Error{Status: 200, Message: "unparsable reply"}, "webhook: HTTP 200: unparsable reply"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
