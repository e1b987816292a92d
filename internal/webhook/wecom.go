package webhook

import (
	"net/url"
	"strings"
)

// wecomMessage is a WeCom group robot's markdown message.
type wecomMessage struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// wecomRequest builds a WeCom group robot's markdown message. The robot's
// key is in the URL; there is nothing to sign.
func wecomRequest(u *url.URL, m Message) (request, error) {
	content := "**" + inert(oneLine(m.Title)) + "**"
	if strings.TrimSpace(m.Text) != "" {
		content += "\n" + inert(strings.Join(lines(m.Text), "\n"))
	}
	var msg wecomMessage
	msg.MsgType = "markdown"
	msg.Markdown.Content = content
	body, err := encodeJSON(msg)
	if err != nil {
		return request{}, err
	}
	return request{url: u, body: body}, nil
}
