// Package domain is the language of Rectify: problems, their lifecycle, roles
// and who may do what. It depends on the standard library only.
package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. The HTTP layer maps them to status codes with errors.Is/As.
var (
	ErrNotFound           = errors.New("not found")
	ErrUnauthenticated    = errors.New("not authenticated")
	ErrForbidden          = errors.New("forbidden")
	ErrConflict           = errors.New("conflict")
	ErrPreconditionFailed = errors.New("version does not match")
	ErrTooManyAttempts    = errors.New("too many attempts")
)

// ForbiddenError says why an actor may not do something. It matches ErrForbidden.
type ForbiddenError struct {
	Code   string // machine-readable: role_required, four_eyes, not_assignee, ...
	Reason string
}

func (e *ForbiddenError) Error() string        { return e.Reason }
func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Forbidden builds a ForbiddenError.
func Forbidden(code, format string, args ...any) error {
	return &ForbiddenError{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// InvalidTransitionError is returned when an action is not allowed in the current state.
type InvalidTransitionError struct {
	Action  Action
	From    Status
	Allowed []Action
}

func (e *InvalidTransitionError) Error() string {
	allowed := make([]string, len(e.Allowed))
	for i, a := range e.Allowed {
		allowed[i] = string(a)
	}
	list := strings.Join(allowed, ", ")
	if list == "" {
		list = "none"
	}
	return fmt.Sprintf("action %s is not allowed in state %s; allowed: %s", e.Action, e.From, list)
}

// ConflictError is a state conflict that is not a lifecycle transition, such as
// a duplicate username or a second pending extension. It matches ErrConflict.
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string        { return e.Reason }
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// Conflict builds a ConflictError.
func Conflict(format string, args ...any) error {
	return &ConflictError{Reason: fmt.Sprintf(format, args...)}
}

// FieldError names one invalid field.
type FieldError struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ValidationError lists every invalid field of one input.
// UnsupportedTypeError refuses content of a type that is not accepted, such
// as an executable uploaded as evidence.
type UnsupportedTypeError struct {
	Field  string
	Type   string // the type found in the content
	Reason string
}

func (e *UnsupportedTypeError) Error() string { return e.Field + ": " + e.Reason }

type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Reason
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// Invalid builds a ValidationError for one field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Fields: []FieldError{{Field: field, Reason: fmt.Sprintf(format, args...)}}}
}

// Validator collects field errors; Err returns nil when there are none.
type Validator struct{ fields []FieldError }

// Add records a problem with a field.
func (v *Validator) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Reason: fmt.Sprintf(format, args...)})
}

// Check records reason for field when ok is false.
func (v *Validator) Check(ok bool, field, format string, args ...any) {
	if !ok {
		v.Add(field, format, args...)
	}
}

// Text checks a text field's length in characters (runes) and, if required, that it is not blank.
func (v *Validator) Text(field, value string, required bool, max int) {
	if required && strings.TrimSpace(value) == "" {
		v.Add(field, "is required")
		return
	}
	if n := len([]rune(value)); n > max {
		v.Add(field, "is %d characters long; at most %d allowed", n, max)
	}
}

// Err returns the collected errors as a *ValidationError, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
