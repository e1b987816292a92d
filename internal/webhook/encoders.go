package webhook

import (
	"net/url"
	"strings"
	"time"
)

// An encoder puts a message on the wire for one kind of target. Adding a
// channel is one encoder (a file beside dingtalk.go) and one line in
// encoders; the sender, the configuration's checks and the outbox are the
// same for every kind.
type encoder interface {
	// request builds the request that delivers m to u.
	request(u *url.URL, secret string, m Message, now time.Time) (request, error)
	// robot reports a receiver that answers every post with a JSON
	// {errcode, errmsg} (the group robots): a 2xx with a non-zero code failed.
	robot() bool
	// needsSecret reports a kind that cannot be sent without a secret.
	needsSecret() bool
}

// encoders are the kinds of target, in the order messages name them.
var encoders = []struct {
	kind Kind
	enc  encoder
}{
	{KindDingTalk, dingtalkEncoder{}},
	{KindWeCom, wecomEncoder{}},
	{KindGeneric, genericEncoder{}},
}

// encoderOf returns the encoder of kind, or nil for an unknown kind.
func encoderOf(kind Kind) encoder {
	for _, e := range encoders {
		if e.kind == kind {
			return e.enc
		}
	}
	return nil
}

// kindList names the kinds for a message: "dingtalk, wecom or generic".
func kindList() string {
	names := make([]string, len(encoders))
	for i, e := range encoders {
		names[i] = string(e.kind)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

type dingtalkEncoder struct{}

func (dingtalkEncoder) request(u *url.URL, secret string, m Message, now time.Time) (request, error) {
	return dingtalkRequest(u, secret, m, now)
}
func (dingtalkEncoder) robot() bool       { return true }
func (dingtalkEncoder) needsSecret() bool { return false }

type wecomEncoder struct{}

func (wecomEncoder) request(u *url.URL, _ string, m Message, _ time.Time) (request, error) {
	return wecomRequest(u, m)
}
func (wecomEncoder) robot() bool       { return true }
func (wecomEncoder) needsSecret() bool { return false }

type genericEncoder struct{}

func (genericEncoder) request(u *url.URL, secret string, m Message, now time.Time) (request, error) {
	return genericRequest(u, secret, m, now)
}
func (genericEncoder) robot() bool       { return false }
func (genericEncoder) needsSecret() bool { return true }
