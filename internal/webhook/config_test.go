package webhook_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/webhook"
)

func TestParseTargetsValid(t *testing.T) {
	got, err := webhook.ParseTargets(`[
		{"name": "ops-dingtalk", "kind": "dingtalk",
		 "url": "https://oapi.dingtalk.com/robot/send?access_token=` + accessToken + `",
		 "secret": "` + robotSecret + `", "events": ["problem.assigned", "problem.overdue"]},
		{"name": "ops_wecom", "kind": "wecom",
		 "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=` + wecomKey + `"},
		{"name": "audit-sink-2", "kind": "generic", "url": "http://10.0.0.7:8080/hooks/rectify",
		 "secret": "` + hmacKey + `", "events": []},
		{"name": "plain-dingtalk", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=abc"}
	]`)
	if err != nil {
		t.Fatal(err)
	}
	want := []webhook.Target{
		{Name: "ops-dingtalk", Kind: webhook.KindDingTalk, URL: "https://oapi.dingtalk.com/robot/send?access_token=" + accessToken,
			Secret: robotSecret, Events: []string{"problem.assigned", "problem.overdue"}},
		{Name: "ops_wecom", Kind: webhook.KindWeCom, URL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + wecomKey},
		{Name: "audit-sink-2", Kind: webhook.KindGeneric, URL: "http://10.0.0.7:8080/hooks/rectify", Secret: hmacKey, Events: []string{}},
		{Name: "plain-dingtalk", Kind: webhook.KindDingTalk, URL: "https://oapi.dingtalk.com/robot/send?access_token=abc"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("targets\n%#v\nwant\n%#v", got, want)
	}
	if !got[2].Wants("anything") || got[0].Wants("problem.closed") {
		t.Fatal("Events were not carried over")
	}
}

func TestParseTargetsNone(t *testing.T) {
	for _, s := range []string{"", "  \n", "[]", "null"} {
		got, err := webhook.ParseTargets(s)
		if err != nil || got != nil {
			t.Errorf("ParseTargets(%q) = %v, %v; want nil, nil", s, got, err)
		}
	}
}

// targetErrors returns every *webhook.TargetError in err, in order.
func targetErrors(err error) []*webhook.TargetError {
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		var out []*webhook.TargetError
		for _, inner := range multi.Unwrap() {
			out = append(out, targetErrors(inner)...)
		}
		return out
	}
	var te *webhook.TargetError
	if errors.As(err, &te) {
		return []*webhook.TargetError{te}
	}
	return nil
}

func TestParseTargetsInvalid(t *testing.T) {
	const ok = `"kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=` + wecomKey + `"`
	for _, tc := range []struct {
		name      string
		in        string
		wantIndex int
		wantName  string
		wantField string
		wantText  string // in the error's text
	}{
		{"unknown field", `[{"name": "a", ` + ok + `, "token": "x"}]`, 0, "a", "token", "unknown field"},
		{"misspelt field", `[{"name": "a", ` + ok + `}, {"name": "b", ` + ok + `, "event": ["x"]}]`, 1, "b", "event", "unknown field"},
		{"name missing", `[{` + ok + `}]`, 0, "", "name", "required"},
		{"name upper case", `[{"name": "Ops", ` + ok + `}]`, 0, "Ops", "name", "want 1 to 64"},
		{"name with a space", `[{"name": "ops team", ` + ok + `}]`, 0, "ops team", "name", "want 1 to 64"},
		{"name with a dot", `[{"name": "ops.wecom", ` + ok + `}]`, 0, "ops.wecom", "name", "want 1 to 64"},
		{"name in Chinese", `[{"name": "办公室", ` + ok + `}]`, 0, "办公室", "name", "want 1 to 64"},
		{"name too long", `[{"name": "` + strings.Repeat("a", 65) + `", ` + ok + `}]`, 0, strings.Repeat("a", 65), "name", "want 1 to 64"},
		{"name not a string", `[{"name": 7, ` + ok + `}]`, 0, "", "name", "want string, got number"},
		{"duplicate name", `[{"name": "a", ` + ok + `}, {"name": "b", ` + ok + `}, {"name": "a", ` + ok + `}]`, 2, "a", "name", "already used by RECTIFY_WEBHOOKS[0]"},
		{"kind missing", `[{"name": "a", "url": "https://example.com/"}]`, 0, "a", "kind", "required"},
		{"kind unknown", `[{"name": "a", "kind": "slack", "url": "https://example.com/"}]`, 0, "a", "kind", `"slack": want dingtalk, wecom or generic`},
		{"kind in capitals", `[{"name": "a", "kind": "DingTalk", "url": "https://example.com/"}]`, 0, "a", "kind", "want dingtalk"},
		{"url missing", `[{"name": "a", "kind": "wecom"}]`, 0, "a", "url", "required"},
		{"url relative", `[{"name": "a", "kind": "wecom", "url": "/cgi-bin/webhook/send?key=` + wecomKey + `"}]`, 0, "a", "url", "want an http or https URL"},
		{"url ftp", `[{"name": "a", "kind": "wecom", "url": "ftp://example.com/x?key=` + wecomKey + `"}]`, 0, "a", "url", "want an http or https URL"},
		{"url without host", `[{"name": "a", "kind": "wecom", "url": "https:///send?key=` + wecomKey + `"}]`, 0, "a", "url", "with a host"},
		{"url with a port and no host", `[{"name": "a", "kind": "generic", "secret": "s", "url": "http://:8080/hook"}]`, 0, "a", "url", "with a host"},
		{"url opaque", `[{"name": "a", "kind": "wecom", "url": "https:example.com?key=` + wecomKey + `"}]`, 0, "a", "url", "with a host"},
		{"url unparsable", `[{"name": "a", "kind": "wecom", "url": "https://exa mple.com/?key=` + wecomKey + `"}]`, 0, "a", "url", "not a valid URL"},
		{"url with a bad query", `[{"name": "a", "kind": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=` + accessToken + `%zz"}]`, 0, "a", "url", "malformed query"},
		{"generic without secret", `[{"name": "a", "kind": "generic", "url": "https://example.com/hook"}]`, 0, "a", "secret", "required for a generic target"},
		{"generic with empty secret", `[{"name": "a", "kind": "generic", "url": "https://example.com/hook", "secret": ""}]`, 0, "a", "secret", "required"},
		{"empty event", `[{"name": "a", ` + ok + `, "events": ["problem.assigned", ""]}]`, 0, "a", "events", "entry 1 is empty"},
		{"blank event", `[{"name": "a", ` + ok + `, "events": ["  "]}]`, 0, "a", "events", "entry 0 is empty"},
		{"events not strings", `[{"name": "a", ` + ok + `, "events": [1]}]`, 0, "a", "events", "want an array of strings"},
		{"events not an array", `[{"name": "a", ` + ok + `, "events": "problem.assigned"}]`, 0, "a", "events", "want an array of strings"},
		{"entry not an object", `[{"name": "a", ` + ok + `}, "ops"]`, 1, "", "", "want an object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := webhook.ParseTargets(tc.in)
			if got != nil {
				t.Errorf("targets %v alongside an error", got)
			}
			tes := targetErrors(err)
			if len(tes) != 1 {
				t.Fatalf("error %v: want exactly one *TargetError", err)
			}
			te := tes[0]
			if te.Index != tc.wantIndex || te.Name != tc.wantName || te.Field != tc.wantField {
				t.Fatalf("error %+v, want index %d, name %q, field %q", te, tc.wantIndex, tc.wantName, tc.wantField)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.wantText) {
				t.Fatalf("error %q, want it to say %q", msg, tc.wantText)
			}
			if !strings.HasPrefix(msg, "RECTIFY_WEBHOOKS[") {
				t.Fatalf("error %q does not name the entry", msg)
			}
			assertNoCredentials(t, msg)
		})
	}
}

func TestParseTargetsNotAnArray(t *testing.T) {
	for _, in := range []string{`{"name": "a"}`, `"ops"`, `[{"name": "a"}`, `[] []`, `[{"name":"a","kind":"wecom","url":"https://x/?key=` + wecomKey + `"}] trailing`} {
		got, err := webhook.ParseTargets(in)
		if err == nil || got != nil {
			t.Errorf("ParseTargets(%q) = %v, %v; want an error", in, got, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "RECTIFY_WEBHOOKS: ") {
			t.Errorf("error %q does not name the variable", err)
		}
		assertNoCredentials(t, err.Error())
	}
}

func TestParseTargetsReportsEveryProblem(t *testing.T) {
	_, err := webhook.ParseTargets(`[
		{"name": "Bad Name", "kind": "slack", "url": "ftp://x/?key=` + wecomKey + `"},
		{"name": "ok", "kind": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
		{"name": "hook", "kind": "generic", "url": "https://example.com/", "events": [""]}
	]`)
	var got []string
	for _, te := range targetErrors(err) {
		got = append(got, te.Name+"/"+te.Field)
	}
	want := []string{"Bad Name/name", "Bad Name/kind", "Bad Name/url", "hook/secret", "hook/events"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("problems %v, want %v (error: %v)", got, want, err)
	}
}

// ParseTargets faces operators' hand-written JSON: whatever it is given, it
// must not panic, and what it accepts must be printable without its query
// and accepted by Send.
func FuzzParseTargets(f *testing.F) {
	for _, seed := range []string{
		``,
		`[]`,
		`[{"name":"a","kind":"wecom","url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abcd1234"}]`,
		`[{"name":"a","kind":"dingtalk","url":"https://oapi.dingtalk.com/robot/send?access_token=tok12345","secret":"SECabc","events":["problem.assigned"]}]`,
		`[{"name":"a","kind":"generic","url":"http://h:1/p","secret":"s"},{"name":"a","kind":"generic","url":"http://h:1/p","secret":"s"}]`,
		`[{"name":"a","kind":"generic","url":"http://u:p@h:1/p?q=1#f","secret":"s"}]`,
		`[{"name":1}]`,
		`[null]`,
		`{"name":"a"}`,
	} {
		f.Add(seed)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	s := webhook.New(nil, clock)
	f.Fuzz(func(t *testing.T, in string) {
		targets, err := webhook.ParseTargets(in)
		if err != nil {
			if targets != nil {
				t.Fatalf("targets %v alongside error %v", targets, err)
			}
			return
		}
		names := map[string]bool{}
		for _, tg := range targets {
			if names[tg.Name] {
				t.Fatalf("duplicate name %q accepted", tg.Name)
			}
			names[tg.Name] = true
			str := tg.String()
			if !strings.HasPrefix(str, tg.Name+" ("+string(tg.Kind)+") http") || strings.Contains(str, "?") {
				t.Fatalf("String() = %q", str)
			}
			// With the context already over, nothing is sent; a target that
			// passed ParseTargets must fail only for that reason.
			err := s.Send(canceled, tg, message())
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Send to %v: %v, want context.Canceled", tg, err)
			}
		}
	})
}
