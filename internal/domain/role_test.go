package domain_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

func TestParseRoles(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []domain.Role // nil: an error on field roles
	}{
		{"one", []string{"owner"}, []domain.Role{domain.RoleOwner}},
		{"sorted", []string{"verifier", "admin", "owner"}, []domain.Role{domain.RoleAdmin, domain.RoleOwner, domain.RoleVerifier}},
		{"duplicates dropped", []string{"leader", "leader", "inspector", "leader"}, []domain.Role{domain.RoleInspector, domain.RoleLeader}},
		{"surrounding space trimmed", []string{" owner ", "owner\t"}, []domain.Role{domain.RoleOwner}},
		{"all five", []string{"inspector", "owner", "verifier", "leader", "admin"},
			[]domain.Role{domain.RoleAdmin, domain.RoleInspector, domain.RoleLeader, domain.RoleOwner, domain.RoleVerifier}},
		{"nil", nil, nil},
		{"empty", []string{}, nil},
		{"empty name", []string{""}, nil},
		{"blank name", []string{"  "}, nil},
		{"unknown", []string{"owner", "superuser"}, nil},
		{"case sensitive", []string{"Owner"}, nil},
		{"Chinese name", []string{"责任人"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseRoles(tt.in)
			if tt.want == nil {
				wantInvalid(t, err, "roles")
				if got != nil {
					t.Errorf("roles = %v on error", got)
				}
				return
			}
			mustNil(t, err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseRoles(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	want := []domain.Role{"inspector", "owner", "verifier", "leader", "admin"}
	if got := domain.Roles(); !slices.Equal(got, want) {
		t.Errorf("Roles() = %v, want %v", got, want)
	}
	for _, r := range want {
		if !r.Valid() {
			t.Errorf("%s invalid", r)
		}
	}
	for _, r := range []domain.Role{"", "Admin", "root", " owner", "检查人"} {
		if r.Valid() {
			t.Errorf("%q valid", r)
		}
	}
	if got := domain.RoleNames([]domain.Role{domain.RoleVerifier, domain.RoleAdmin, domain.RoleOwner}); !slices.Equal(got, []string{"admin", "owner", "verifier"}) {
		t.Errorf("RoleNames = %v", got)
	}
	if got := domain.RoleNames(nil); len(got) != 0 {
		t.Errorf("RoleNames(nil) = %v", got)
	}
}
