package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// dingtalkMessage is a DingTalk group robot's markdown message.
type dingtalkMessage struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"` // shown in the chat list and notifications
		Text  string `json:"text"`
	} `json:"markdown"`
}

// dingtalkRequest builds a DingTalk group robot's markdown message, signed
// with the robot's 加签 secret when there is one.
func dingtalkRequest(u *url.URL, secret string, m Message, now time.Time) (request, error) {
	title := oneLine(m.Title) // the chat list shows it as plain text
	text := "### " + inert(title)
	if strings.TrimSpace(m.Text) != "" {
		// DingTalk's Markdown joins lines separated by a single newline;
		// a blank line between them keeps each on its own.
		text += "\n\n" + inert(strings.Join(lines(m.Text), "\n\n"))
	}
	var msg dingtalkMessage
	msg.MsgType = "markdown"
	msg.Markdown.Title = title
	msg.Markdown.Text = text
	body, err := encodeJSON(msg)
	if err != nil {
		return request{}, err
	}
	signed := *u
	if secret != "" {
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		q := signed.Query() // keeps access_token
		q.Set("timestamp", ts)
		q.Set("sign", dingtalkSign(secret, ts))
		signed.RawQuery = q.Encode() // escapes the base64 sign once, as DingTalk expects
	}
	return request{url: &signed, body: body}, nil
}

// dingtalkSign is base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)),
// not yet query-escaped.
func dingtalkSign(secret, timestamp string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
