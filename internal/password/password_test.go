package password

import (
	"errors"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestTheListIsEmbedded(t *testing.T) {
	if len(common) < 9900 {
		t.Fatalf("%d common passwords loaded", len(common))
	}
	for _, p := range []string{"password", "123456", "qwerty", "1234567890", "PASSWORD", "Password1", "iloveyou"} {
		if !Common(p) {
			t.Errorf("%q is not on the list", p)
		}
	}
	if Common("采石场的夕阳-7") || Common("") {
		t.Error("an uncommon password is on the list")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		p, user string
		admin   bool
		reason  string // "" accepted
	}{
		{"short-pw1", "u", false, "at least 10"},
		{"ten-chars1", "u", false, ""},
		{"ten-chars1", "u", true, "at least 14 characters for an admin"},
		{"fourteen-chars", "admin", true, ""},
		{"十个汉字的一句口令呀", "u", false, ""}, // ten characters, thirty bytes
		{strings.Repeat("长", 25), "u", false, "at most 72 bytes"},
		{"1234567890", "u", false, "most common"},
		{"QwertyUiop", "u", false, "most common"},
		{"zhangsan-01", "ZhangSan-01", false, "username"},
	} {
		err := Check("password", tc.p, tc.user, tc.admin)
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tc.p, err)
			}
			continue
		}
		var ve *domain.ValidationError
		if !errors.As(err, &ve) || ve.Fields[0].Field != "password" || !strings.Contains(ve.Fields[0].Reason, tc.reason) {
			t.Errorf("%q: %v, want a refusal saying %q", tc.p, err, tc.reason)
		}
	}
}
