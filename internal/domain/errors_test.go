package domain_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestErrors(t *testing.T) {
	t.Run("forbidden", func(t *testing.T) {
		err := fmt.Errorf("assign: %w", domain.Forbidden("four_eyes", "user %d submitted it", 7))
		var fe *domain.ForbiddenError
		if !errors.As(err, &fe) || fe.Code != "four_eyes" || fe.Reason != "user 7 submitted it" {
			t.Fatalf("%#v", fe)
		}
		if !errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrNotFound) {
			t.Errorf("ForbiddenError matches the wrong sentinels")
		}
		if fe.Error() != "user 7 submitted it" {
			t.Errorf("Error() = %q", fe.Error())
		}
	})
	t.Run("conflict", func(t *testing.T) {
		err := fmt.Errorf("wrapped: %w", domain.Conflict("extension %d was already %s", 9, domain.ExtensionApproved))
		var ce *domain.ConflictError
		if !errors.As(err, &ce) || ce.Error() != "extension 9 was already approved" {
			t.Fatalf("%v", err)
		}
		if !errors.Is(err, domain.ErrConflict) || errors.Is(err, domain.ErrForbidden) {
			t.Errorf("ConflictError matches the wrong sentinels")
		}
	})
	t.Run("invalid transition", func(t *testing.T) {
		err := &domain.InvalidTransitionError{Action: domain.ActionSubmit, From: domain.StatusClosed,
			Allowed: []domain.Action{domain.ActionReopen, domain.ActionComment}}
		if got, want := err.Error(), "action submit is not allowed in state closed; allowed: reopen, comment"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		none := &domain.InvalidTransitionError{Action: domain.ActionComment, From: domain.StatusDismissed}
		if got, want := none.Error(), "action comment is not allowed in state dismissed; allowed: none"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		if errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrConflict) {
			t.Errorf("InvalidTransitionError must stay distinct from 403 and the generic conflict")
		}
	})
	t.Run("validation", func(t *testing.T) {
		err := domain.Invalid("title", "is %d characters long; at most %d allowed", 201, 200)
		ve := invalidError(t, err, "title")
		if ve.Fields[0].Reason != "is 201 characters long; at most 200 allowed" {
			t.Errorf("reason %q", ve.Fields[0].Reason)
		}
		if err.Error() != "invalid input: title: is 201 characters long; at most 200 allowed" {
			t.Errorf("Error() = %q", err.Error())
		}
		var v domain.Validator
		if v.Err() != nil {
			t.Errorf("an empty Validator has an error")
		}
		v.Check(true, "a", "never")
		v.Text("b", "", false, 3)
		v.Text("c", "三个字", true, 3)
		if v.Err() != nil {
			t.Errorf("valid input: %v", v.Err())
		}
		v.Check(false, "a", "is %s", "bad")
		v.Text("b", "四个字了", false, 3)
		v.Text("c", "", true, 3)
		v.Add("d", "custom")
		err = v.Err()
		if got, want := err.Error(), "invalid input: a: is bad; b: is 4 characters long; at most 3 allowed; c: is required; d: custom"; got != want {
			t.Errorf("Error() = %q, want %q", got, want)
		}
		wantInvalid(t, err, "a", "b", "c", "d")
	})
}
