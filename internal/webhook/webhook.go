// Package webhook formats one event for one configured receiver and delivers
// it in a single attempt. Retries, backoff and persistence belong to the
// outbox that calls Send; this package only says precisely how an attempt went.
//
// Three wire formats are spoken, one per Kind:
//
//   - dingtalk: a DingTalk group robot (钉钉自定义机器人), as the DingTalk Open
//     Platform documents it in "自定义机器人发送群消息" (send group messages with
//     a custom robot) and "自定义机器人安全设置" (custom robot security settings),
//     at open.dingtalk.com. The body is
//     {"msgtype":"markdown","markdown":{"title":…,"text":…}}; the text is a
//     "### title" line, then the message's lines, a blank line apart. With a
//     加签 secret, timestamp (milliseconds) and sign = query-escaped
//     base64(HMAC-SHA256(secret, timestamp+"\n"+secret)) join access_token in
//     the URL's query. The robot answers HTTP 200 with
//     {"errcode":0,"errmsg":"ok"}; any other errcode is a failure.
//   - wecom: a WeCom group robot (企业微信群机器人), as WeCom's developer
//     documentation describes it in "群机器人配置说明" (group robot set-up,
//     developer.work.weixin.qq.com/document/path/91770). The body is
//     {"msgtype":"markdown","markdown":{"content":…}}, the content a
//     "**title**" line and then the message's lines. The robot's key is in the
//     URL. The reply is judged like DingTalk's.
//   - generic: any HTTP(S) endpoint, ours or a customer's. The body is
//     {"id","kind","occurred_at","title","text","data"}, signed with
//     X-Rectify-Timestamp (unix seconds) and X-Rectify-Signature:
//     sha256=hex(HMAC-SHA256(secret, timestamp+"."+body)), and labelled with
//     X-Rectify-Event. Receivers check it with VerifyGeneric. Any 2xx is
//     success.
//
// Every request carries X-Rectify-Event-Id, stable across retries, so that
// receivers can drop duplicates. Redirects are not followed: a moved endpoint
// is reported as a 3xx failure rather than silently turned into a GET.
//
// Robot URLs carry their credentials in the query (access_token, key), so
// nothing this package prints — Target.String, Error.Error — shows a query.
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind says which wire format a Target speaks.
type Kind string

// The kinds of target.
const (
	KindDingTalk Kind = "dingtalk"
	KindWeCom    Kind = "wecom"
	KindGeneric  Kind = "generic"
)

const (
	// maxReply is the most of a response body that is read.
	maxReply = 64 << 10
	// maxMessage is the most runes of an Error's Message.
	maxMessage = 300
	// defaultTimeout bounds an attempt when New is given no client.
	defaultTimeout = 10 * time.Second
	userAgent      = "rectify-webhook/1"

	headerEventID   = "X-Rectify-Event-Id"
	headerEvent     = "X-Rectify-Event"
	headerTimestamp = "X-Rectify-Timestamp"
	headerSignature = "X-Rectify-Signature"
)

// Target is one configured webhook.
type Target struct {
	Name   string   // unique, [a-z0-9_-]{1,64}; the outbox keys deliveries by it
	Kind   Kind     // KindDingTalk, KindWeCom or KindGeneric
	URL    string   // absolute http or https URL; robots' credentials are in its query
	Secret string   // dingtalk: 加签 secret, optional; generic: HMAC key, required; wecom: unused
	Events []string // event kinds this target receives; empty means all
}

// Wants reports whether the target receives events of the given kind.
func (t Target) Wants(kind string) bool {
	return len(t.Events) == 0 || slices.Contains(t.Events, kind)
}

// String shows the name, kind and URL without its query, user or fragment,
// so that it can be logged.
func (t Target) String() string {
	return fmt.Sprintf("%s (%s) %s", t.Name, t.Kind, redactURL(t.URL))
}

// Message is one event as the outside world sees it.
type Message struct {
	EventID    string          // stable across retries: receivers deduplicate by it
	Kind       string          // e.g. "problem.assigned", "problem.overdue"
	OccurredAt time.Time       // when the event happened
	Title      string          // one line, e.g. "【交办】WT-2026-000012 会议纪要未按时报送"
	Text       string          // a few lines of plain text: who is told, what to do, by when
	Data       json.RawMessage // a JSON object for the generic webhook; empty means {}
}

// Error is a failed delivery attempt. Its text never shows the target's
// secret or the values in its URL's query: URLs it names itself are
// scheme://host/path, and whatever the server or the transport said has
// those values masked.
type Error struct {
	Target  string // the target's name
	Status  int    // HTTP status, 0 when there was no response
	Code    int    // errcode of a DingTalk or WeCom reply, 0 otherwise
	Message string // what went wrong, in a few words
	err     error  // the transport's or the context's error, if any
}

// Error returns e.g. "webhook ops: errcode 310000: sign not match".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("webhook")
	if e.Target != "" {
		b.WriteString(" " + e.Target)
	}
	// A robot's refusal arrives with HTTP 200; its errcode says more than the status.
	if e.Status != 0 && (e.Code == 0 || !success(e.Status)) {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != 0 {
		fmt.Fprintf(&b, ": errcode %d", e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Unwrap returns the underlying transport error, so that callers can tell
// context.Canceled or context.DeadlineExceeded apart with errors.Is.
func (e *Error) Unwrap() error { return e.err }

// Sender delivers messages. The zero value is not usable; use New.
type Sender struct {
	client *http.Client
	now    func() time.Time
}

// New returns a Sender using a copy of client that does not follow redirects.
// A nil client means one with a 10-second timeout; a nil now means time.Now,
// which signs DingTalk and generic requests.
func New(client *http.Client, now func() time.Time) *Sender {
	c := &http.Client{Timeout: defaultTimeout}
	if client != nil {
		copied := *client
		c = &copied
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if now == nil {
		now = time.Now
	}
	return &Sender{client: c, now: now}
}

// request is what one kind puts on the wire.
type request struct {
	url    *url.URL
	body   []byte
	header http.Header
}

// Send makes one attempt to deliver m to t. It returns nil on success and an
// *Error otherwise. Timeouts come from ctx and the client.
func (s *Sender) Send(ctx context.Context, t Target, m Message) error {
	if p := t.problems(); len(p) > 0 {
		return t.fail(0, 0, "invalid target: "+p[0].String(), nil)
	}
	if m.EventID == "" {
		return t.fail(0, 0, "message has no event id", nil)
	}
	if m.Kind == "" {
		return t.fail(0, 0, "message has no kind", nil)
	}
	u, err := url.Parse(t.URL)
	if err != nil { // problems() has parsed it already
		return t.fail(0, 0, "invalid url", nil)
	}
	enc := encoderOf(t.Kind) // problems() has checked the kind
	r, err := enc.request(u, t.Secret, m, s.now())
	if err != nil {
		return t.fail(0, 0, err.Error(), nil)
	}

	where := redactURL(r.url.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url.String(), bytes.NewReader(r.body))
	if err != nil { // its text would show the whole URL
		return t.fail(0, 0, "cannot build a request for "+where, nil)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(headerEventID, m.EventID)

	resp, err := s.client.Do(req)
	if err != nil {
		// *url.Error's text carries the whole URL, credentials and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return t.fail(0, 0, "post "+where+": "+err.Error(), err)
	}
	defer func() { _ = resp.Body.Close() }() // read below; a failed close loses nothing
	// Reading one byte past the limit tells a full reply from a cut one.
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxReply+1))

	robot := enc.robot()
	if !success(resp.StatusCode) {
		if robot {
			if rep, ok := parseRobotReply(body); ok && rep.code != 0 {
				return t.fail(resp.StatusCode, rep.code, rep.msg, nil)
			}
		}
		return t.fail(resp.StatusCode, 0, withReply("unexpected status", body), nil)
	}
	if !robot {
		return nil // the receiver accepted it; its body says nothing more
	}
	switch {
	case readErr != nil:
		return t.fail(resp.StatusCode, 0, "read reply: "+readErr.Error(), readErr)
	case len(body) > maxReply:
		return t.fail(resp.StatusCode, 0, "reply larger than 64 KiB", nil)
	}
	rep, ok := parseRobotReply(body)
	switch {
	case !ok:
		return t.fail(resp.StatusCode, 0, withReply("unparsable reply", body), nil)
	case rep.code != 0:
		return t.fail(resp.StatusCode, rep.code, rep.msg, nil)
	}
	return nil
}

func success(status int) bool { return status >= 200 && status <= 299 }

// fail makes an *Error whose message holds neither the secret nor any
// value of the URL's query, whatever the server or the transport said.
func (t Target) fail(status, code int, msg string, cause error) *Error {
	hide := func(v string) {
		msg = strings.ReplaceAll(msg, v, "***")
		msg = strings.ReplaceAll(msg, url.QueryEscape(v), "***")
	}
	if t.Secret != "" {
		hide(t.Secret)
	}
	if u, err := url.Parse(t.URL); err == nil {
		var creds []string
		for _, vs := range u.Query() {
			creds = append(creds, vs...)
		}
		if p, ok := u.User.Password(); ok {
			creds = append(creds, p)
		}
		for _, v := range creds {
			// Short values ("1", "on") are no credentials; hiding them would garble the text.
			if len(v) >= 4 {
				hide(v)
			}
		}
	}
	// Shortened only now: a credential cut in two would escape the replacing.
	return &Error{Target: t.Name, Status: status, Code: code, Message: oneLineShort(msg), err: cause}
}

// robotReply is what DingTalk and WeCom robots answer.
type robotReply struct {
	code int
	msg  string
}

func parseRobotReply(body []byte) (robotReply, bool) {
	var r struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ErrCode == nil {
		return robotReply{}, false
	}
	msg := strings.TrimSpace(r.ErrMsg)
	if msg == "" && *r.ErrCode != 0 {
		msg = "refused"
	}
	return robotReply{code: *r.ErrCode, msg: msg}, true
}

// withReply appends a reply to msg. It is not cut here but in fail, after
// credentials have been hidden.
func withReply(msg string, body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return msg
	}
	return msg + ": " + string(body)
}

// oneLineShort makes s fit an error message: valid UTF-8, on one line, and
// at most maxMessage runes.
func oneLineShort(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "")), " ")
	if utf8.RuneCountInString(s) > maxMessage {
		s = string([]rune(s)[:maxMessage]) + "…"
	}
	return s
}

// redactURL shows scheme://host/path only: robots' credentials live in the
// query, and a user's password in the authority.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return "<invalid url>"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// encodeJSON is json.Marshal without escaping <, > and &, which a
// Markdown text is full of and which receivers need not see as \u003c.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// oneLine turns a title into one line: robots show it in a list of chats.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(strings.TrimSpace(s))
}

// lines splits a plain text into its lines, without their line endings.
func lines(s string) []string {
	ls := strings.Split(strings.TrimRight(s, "\r\n"), "\n")
	for i, l := range ls {
		ls[i] = strings.TrimSuffix(l, "\r")
	}
	return ls
}

// markdownInert makes user-written text (a problem's title, its measures, a
// note) plain text inside a robot's Markdown: the characters that open links,
// images, HTML tags, code and emphasis become their full-width forms, which
// read the same in Chinese text, and "://" loses its colon so that a bare
// address does not become a link. Backslash escapes are not used: neither
// robot documents them.
var markdownInert = strings.NewReplacer(
	"[", "［", "]", "］", "(", "（", ")", "）", "<", "＜", ">", "＞", "!", "！", "`", "｀", "*", "＊",
	"://", "：//",
)

// inert is markdownInert over one string.
func inert(s string) string { return markdownInert.Replace(s) }
