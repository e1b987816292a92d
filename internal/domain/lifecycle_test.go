package domain_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

// outcome is what Permit answers for one state × action × role.
type outcome int

const (
	ok    outcome = iota + 1 // allowed
	role                     // 403 ForbiddenError role_required
	state                    // 409 InvalidTransitionError
)

func (o outcome) String() string {
	switch o {
	case ok:
		return "allowed"
	case role:
		return "403 role_required"
	case state:
		return "409 invalid transition"
	}
	return "?"
}

// The states in the column order of expectedPermit.
var columns = [6]domain.Status{
	domain.StatusRegistered, domain.StatusAssigned, domain.StatusRectifying,
	domain.StatusSubmitted, domain.StatusClosed, domain.StatusDismissed,
}

// denied is the row of a role that may never attempt an action: the role
// check comes before the state check, so every state answers 403.
var denied = [6]outcome{role, role, role, role, role, role}

// expectedPermit is PRODUCT.md's lifecycle table written out by hand, one row
// per action and single role, one column per state:
//
//	registered, assigned, rectifying, submitted, closed, dismissed
//
// The actor is set up so that the relationship rules pass (see helpers_test.go).
// Comment is open to "anyone who can see it": Permit allows it to every role,
// and seeing is CanSee's job (an admin alone sees nothing, so the app answers 404).
var expectedPermit = []struct {
	action domain.Action
	role   domain.Role
	want   [6]outcome
}{
	// register creates; it never starts from a state.
	{domain.ActionRegister, domain.RoleInspector, [6]outcome{state, state, state, state, state, state}},
	{domain.ActionRegister, domain.RoleOwner, denied},
	{domain.ActionRegister, domain.RoleVerifier, [6]outcome{state, state, state, state, state, state}},
	{domain.ActionRegister, domain.RoleLeader, denied},
	{domain.ActionRegister, domain.RoleAdmin, denied},

	{domain.ActionEdit, domain.RoleInspector, [6]outcome{ok, state, state, state, state, state}},
	{domain.ActionEdit, domain.RoleOwner, denied},
	{domain.ActionEdit, domain.RoleVerifier, [6]outcome{ok, state, state, state, state, state}},
	{domain.ActionEdit, domain.RoleLeader, denied},
	{domain.ActionEdit, domain.RoleAdmin, denied},

	{domain.ActionAssign, domain.RoleInspector, denied},
	{domain.ActionAssign, domain.RoleOwner, denied},
	{domain.ActionAssign, domain.RoleVerifier, [6]outcome{ok, ok, ok, state, state, state}},
	{domain.ActionAssign, domain.RoleLeader, denied},
	{domain.ActionAssign, domain.RoleAdmin, denied},

	{domain.ActionAccept, domain.RoleInspector, denied},
	{domain.ActionAccept, domain.RoleOwner, [6]outcome{state, ok, state, state, state, state}},
	{domain.ActionAccept, domain.RoleVerifier, denied},
	{domain.ActionAccept, domain.RoleLeader, denied},
	{domain.ActionAccept, domain.RoleAdmin, denied},

	{domain.ActionProgress, domain.RoleInspector, denied},
	{domain.ActionProgress, domain.RoleOwner, [6]outcome{state, state, ok, state, state, state}},
	{domain.ActionProgress, domain.RoleVerifier, denied},
	{domain.ActionProgress, domain.RoleLeader, denied},
	{domain.ActionProgress, domain.RoleAdmin, denied},

	{domain.ActionSubmit, domain.RoleInspector, denied},
	{domain.ActionSubmit, domain.RoleOwner, [6]outcome{state, state, ok, state, state, state}},
	{domain.ActionSubmit, domain.RoleVerifier, denied},
	{domain.ActionSubmit, domain.RoleLeader, denied},
	{domain.ActionSubmit, domain.RoleAdmin, denied},

	{domain.ActionVerifyPass, domain.RoleInspector, denied},
	{domain.ActionVerifyPass, domain.RoleOwner, denied},
	{domain.ActionVerifyPass, domain.RoleVerifier, [6]outcome{state, state, state, ok, state, state}},
	{domain.ActionVerifyPass, domain.RoleLeader, denied},
	{domain.ActionVerifyPass, domain.RoleAdmin, denied},

	{domain.ActionVerifyFail, domain.RoleInspector, denied},
	{domain.ActionVerifyFail, domain.RoleOwner, denied},
	{domain.ActionVerifyFail, domain.RoleVerifier, [6]outcome{state, state, state, ok, state, state}},
	{domain.ActionVerifyFail, domain.RoleLeader, denied},
	{domain.ActionVerifyFail, domain.RoleAdmin, denied},

	{domain.ActionDismiss, domain.RoleInspector, denied},
	{domain.ActionDismiss, domain.RoleOwner, denied},
	{domain.ActionDismiss, domain.RoleVerifier, [6]outcome{ok, ok, state, state, state, state}},
	{domain.ActionDismiss, domain.RoleLeader, denied},
	{domain.ActionDismiss, domain.RoleAdmin, denied},

	{domain.ActionReopen, domain.RoleInspector, denied},
	{domain.ActionReopen, domain.RoleOwner, denied},
	{domain.ActionReopen, domain.RoleVerifier, [6]outcome{state, state, state, state, ok, state}},
	{domain.ActionReopen, domain.RoleLeader, denied},
	{domain.ActionReopen, domain.RoleAdmin, denied},

	{domain.ActionRequestExtension, domain.RoleInspector, denied},
	{domain.ActionRequestExtension, domain.RoleOwner, [6]outcome{state, ok, ok, state, state, state}},
	{domain.ActionRequestExtension, domain.RoleVerifier, denied},
	{domain.ActionRequestExtension, domain.RoleLeader, denied},
	{domain.ActionRequestExtension, domain.RoleAdmin, denied},

	// PRODUCT.md gives no from-state ("—"): a request may be decided while one
	// can be pending, i.e. while assigned or rectifying and after a submit.
	{domain.ActionDecideExtension, domain.RoleInspector, denied},
	{domain.ActionDecideExtension, domain.RoleOwner, denied},
	{domain.ActionDecideExtension, domain.RoleVerifier, [6]outcome{state, ok, ok, ok, state, state}},
	{domain.ActionDecideExtension, domain.RoleLeader, [6]outcome{state, ok, ok, ok, state, state}},
	{domain.ActionDecideExtension, domain.RoleAdmin, denied},

	{domain.ActionUrge, domain.RoleInspector, denied},
	{domain.ActionUrge, domain.RoleOwner, denied},
	{domain.ActionUrge, domain.RoleVerifier, [6]outcome{state, ok, ok, state, state, state}},
	{domain.ActionUrge, domain.RoleLeader, denied},
	{domain.ActionUrge, domain.RoleAdmin, denied},

	{domain.ActionComment, domain.RoleInspector, [6]outcome{ok, ok, ok, ok, ok, state}},
	{domain.ActionComment, domain.RoleOwner, [6]outcome{ok, ok, ok, ok, ok, state}},
	{domain.ActionComment, domain.RoleVerifier, [6]outcome{ok, ok, ok, ok, ok, state}},
	{domain.ActionComment, domain.RoleLeader, [6]outcome{ok, ok, ok, ok, ok, state}},
	{domain.ActionComment, domain.RoleAdmin, [6]outcome{ok, ok, ok, ok, ok, state}},
}

// expectedAllowed is, per state, the actions PRODUCT.md allows from it, in table order.
var expectedAllowed = map[domain.Status][]domain.Action{
	domain.StatusRegistered: {domain.ActionEdit, domain.ActionAssign, domain.ActionDismiss, domain.ActionComment},
	domain.StatusAssigned: {domain.ActionAssign, domain.ActionAccept, domain.ActionDismiss,
		domain.ActionRequestExtension, domain.ActionDecideExtension, domain.ActionUrge, domain.ActionComment},
	domain.StatusRectifying: {domain.ActionAssign, domain.ActionProgress, domain.ActionSubmit,
		domain.ActionRequestExtension, domain.ActionDecideExtension, domain.ActionUrge, domain.ActionComment},
	domain.StatusSubmitted: {domain.ActionVerifyPass, domain.ActionVerifyFail, domain.ActionDecideExtension, domain.ActionComment},
	domain.StatusClosed:    {domain.ActionReopen, domain.ActionComment},
	domain.StatusDismissed: nil,
}

// expectedTo is the target state of every allowed transition; actions that
// leave the state unchanged map to their from-state.
var expectedTo = map[domain.Action]map[domain.Status]domain.Status{
	domain.ActionEdit: {domain.StatusRegistered: domain.StatusRegistered},
	domain.ActionAssign: {
		domain.StatusRegistered: domain.StatusAssigned, domain.StatusAssigned: domain.StatusAssigned,
		domain.StatusRectifying: domain.StatusAssigned,
	},
	domain.ActionAccept:     {domain.StatusAssigned: domain.StatusRectifying},
	domain.ActionProgress:   {domain.StatusRectifying: domain.StatusRectifying},
	domain.ActionSubmit:     {domain.StatusRectifying: domain.StatusSubmitted},
	domain.ActionVerifyPass: {domain.StatusSubmitted: domain.StatusClosed},
	domain.ActionVerifyFail: {domain.StatusSubmitted: domain.StatusRectifying},
	domain.ActionDismiss:    {domain.StatusRegistered: domain.StatusDismissed, domain.StatusAssigned: domain.StatusDismissed},
	domain.ActionReopen:     {domain.StatusClosed: domain.StatusRectifying},
	domain.ActionRequestExtension: {
		domain.StatusAssigned: domain.StatusAssigned, domain.StatusRectifying: domain.StatusRectifying,
	},
	domain.ActionDecideExtension: {
		domain.StatusAssigned: domain.StatusAssigned, domain.StatusRectifying: domain.StatusRectifying,
		domain.StatusSubmitted: domain.StatusSubmitted,
	},
	domain.ActionUrge: {domain.StatusAssigned: domain.StatusAssigned, domain.StatusRectifying: domain.StatusRectifying},
	domain.ActionComment: {
		domain.StatusRegistered: domain.StatusRegistered, domain.StatusAssigned: domain.StatusAssigned,
		domain.StatusRectifying: domain.StatusRectifying, domain.StatusSubmitted: domain.StatusSubmitted,
		domain.StatusClosed: domain.StatusClosed,
	},
}

// expectedRoles is the "who" column of PRODUCT.md's lifecycle table.
var expectedRoles = map[domain.Action][]string{
	domain.ActionRegister:         {"inspector", "verifier"},
	domain.ActionEdit:             {"inspector", "verifier"},
	domain.ActionAssign:           {"verifier"},
	domain.ActionAccept:           {"owner"},
	domain.ActionProgress:         {"owner"},
	domain.ActionSubmit:           {"owner"},
	domain.ActionVerifyPass:       {"verifier"},
	domain.ActionVerifyFail:       {"verifier"},
	domain.ActionDismiss:          {"verifier"},
	domain.ActionReopen:           {"verifier"},
	domain.ActionRequestExtension: {"owner"},
	domain.ActionDecideExtension:  {"leader", "verifier"}, // issue 3: the second extension needs a leader
	domain.ActionUrge:             {"verifier"},
	domain.ActionComment:          nil, // anyone who can see the problem
}

func TestExpectedTablesCoverEverything(t *testing.T) {
	// The literal tables must be complete, or the exhaustive test proves little.
	seen := map[[2]string]bool{}
	for _, row := range expectedPermit {
		k := [2]string{string(row.action), string(row.role)}
		if seen[k] {
			t.Errorf("duplicate row %v", k)
		}
		seen[k] = true
	}
	for _, a := range domain.Actions() {
		for _, r := range domain.Roles() {
			if !seen[[2]string{string(a), string(r)}] {
				t.Errorf("no expected row for %s × %s", a, r)
			}
		}
	}
	if want := 14 * 5; len(expectedPermit) != want {
		t.Errorf("expectedPermit has %d rows, want %d", len(expectedPermit), want)
	}
	if len(domain.Actions()) != 14 || len(domain.Roles()) != 5 || len(domain.Statuses()) != 6 {
		t.Errorf("the domain has %d actions, %d roles, %d states; PRODUCT.md has 14, 5, 6",
			len(domain.Actions()), len(domain.Roles()), len(domain.Statuses()))
	}
	if !slices.Equal(columns[:], domain.Statuses()) {
		t.Errorf("Statuses() = %v, want lifecycle order %v", domain.Statuses(), columns)
	}

	// The three literal tables agree with each other: a state allows an action
	// exactly when some role may take it there, and exactly when it has a target.
	for i, s := range columns {
		var union []domain.Action
		for _, a := range domain.Actions() {
			for _, row := range expectedPermit {
				if row.action == a && row.want[i] == ok && !slices.Contains(union, a) {
					union = append(union, a)
				}
			}
			if _, has := expectedTo[a][s]; has != slices.Contains(expectedAllowed[s], a) {
				t.Errorf("expectedTo and expectedAllowed disagree on %s from %s", a, s)
			}
		}
		if !slices.Equal(union, expectedAllowed[s]) {
			t.Errorf("state %s: expectedPermit allows %v, expectedAllowed says %v", s, union, expectedAllowed[s])
		}
	}
}

// TestPermitExhaustive checks every state × action × single role against expectedPermit.
func TestPermitExhaustive(t *testing.T) {
	for _, row := range expectedPermit {
		for i, s := range columns {
			name := string(row.action) + "/" + string(row.role) + "/" + string(s)
			t.Run(name, func(t *testing.T) {
				p := problemIn(s)
				before := clone(p)
				err := p.Permit(row.action, singleRoleActor(row.role))
				switch row.want[i] {
				case ok:
					if err != nil {
						t.Fatalf("Permit = %v, want allowed", err)
					}
				case role:
					wantForbidden(t, err, "role_required")
					for _, r := range expectedRoles[row.action] {
						if !strings.Contains(err.Error(), r) {
							t.Errorf("role error %q does not name role %s", err, r)
						}
					}
				case state:
					te := transitionError(t, err, row.action, s)
					if !slices.Equal(te.Allowed, expectedAllowed[s]) {
						t.Errorf("Allowed = %v, want %v", te.Allowed, expectedAllowed[s])
					}
					if !strings.Contains(err.Error(), "state "+string(s)) {
						t.Errorf("message %q does not name state %s", err, s)
					}
					for _, a := range expectedAllowed[s] {
						if !strings.Contains(err.Error(), string(a)) {
							t.Errorf("message %q does not name allowed action %s", err, a)
						}
					}
				}
				if after := clone(p); after != before {
					t.Errorf("Permit changed the problem")
				}
			})
		}
	}
}

// TestAvailableActions checks the buttons each single-role actor sees, which
// is expectedPermit's "allowed" cells (register never, as it only creates).
func TestAvailableActions(t *testing.T) {
	for _, r := range domain.Roles() {
		for i, s := range columns {
			var want []domain.Action
			for _, a := range domain.Actions() {
				for _, row := range expectedPermit {
					if row.action == a && row.role == r && row.want[i] == ok {
						want = append(want, a)
					}
				}
			}
			got := problemIn(s).AvailableActions(singleRoleActor(r))
			if !slices.Equal(got, want) {
				t.Errorf("%s in %s: AvailableActions = %v, want %v", r, s, got, want)
			}
		}
	}
	// A user holding several roles gets the union.
	both := actor(ownerID, problemUnitPath, domain.RoleOwner, domain.RoleVerifier)
	got := problemIn(domain.StatusAssigned).AvailableActions(both)
	want := []domain.Action{domain.ActionAssign, domain.ActionAccept, domain.ActionDismiss,
		domain.ActionRequestExtension, domain.ActionDecideExtension, domain.ActionUrge, domain.ActionComment}
	if !slices.Equal(got, want) {
		t.Errorf("owner+verifier in assigned: %v, want %v", got, want)
	}
}

func TestTransitionTable(t *testing.T) {
	for _, a := range domain.Actions() {
		for _, s := range domain.Statuses() {
			to, allowed := domain.Transition(s, a)
			want, wantAllowed := expectedTo[a][s]
			if !wantAllowed {
				want = s
			}
			if allowed != wantAllowed || to != want {
				t.Errorf("Transition(%s, %s) = %s, %v; want %s, %v", s, a, to, allowed, want, wantAllowed)
			}
		}
		// An unknown state allows nothing.
		if to, allowed := domain.Transition("archived", a); allowed || to != "archived" {
			t.Errorf("Transition(archived, %s) = %s, %v", a, to, allowed)
		}
	}
	if to, allowed := domain.Transition(domain.StatusAssigned, "approve"); allowed || to != domain.StatusAssigned {
		t.Errorf("unknown action: %s, %v", to, allowed)
	}
	for _, s := range domain.Statuses() {
		if got := domain.AllowedActions(s); !slices.Equal(got, expectedAllowed[s]) {
			t.Errorf("AllowedActions(%s) = %v, want %v", s, got, expectedAllowed[s])
		}
	}
}

func TestActionRoles(t *testing.T) {
	for _, a := range domain.Actions() {
		got := domain.ActionRoles(a)
		if want := expectedRoles[a]; want == nil {
			if got != nil {
				t.Errorf("ActionRoles(%s) = %v, want nil (anyone who can see it)", a, got)
			}
		} else if names := domain.RoleNames(got); !slices.Equal(names, want) {
			t.Errorf("ActionRoles(%s) = %v, want %v", a, names, want)
		}
	}
	// The answer is a copy: changing it does not change the table.
	rs := domain.ActionRoles(domain.ActionAssign)
	rs[0] = domain.RoleAdmin
	if got := domain.ActionRoles(domain.ActionAssign); !slices.Equal(got, []domain.Role{domain.RoleVerifier}) {
		t.Errorf("ActionRoles leaks the table: %v", got)
	}
}

func TestLifecycleGraph(t *testing.T) {
	t.Run("every state reachable from registered", func(t *testing.T) {
		reached := map[domain.Status]bool{domain.StatusRegistered: true}
		queue := []domain.Status{domain.StatusRegistered}
		for len(queue) > 0 {
			s := queue[0]
			queue = queue[1:]
			for _, a := range domain.Actions() {
				if to, ok := domain.Transition(s, a); ok && !reached[to] {
					reached[to] = true
					queue = append(queue, to)
				}
			}
		}
		for _, s := range domain.Statuses() {
			if !reached[s] {
				t.Errorf("state %s is not reachable from registered", s)
			}
		}
	})
	t.Run("register only creates", func(t *testing.T) {
		for _, s := range domain.Statuses() {
			if to, ok := domain.Transition(s, domain.ActionRegister); ok {
				t.Errorf("register is allowed from %s (to %s)", s, to)
			}
		}
	})
	t.Run("dismissed is terminal", func(t *testing.T) {
		for _, a := range domain.Actions() {
			if to, ok := domain.Transition(domain.StatusDismissed, a); ok {
				t.Errorf("%s is allowed from dismissed (to %s)", a, to)
			}
		}
		if got := domain.AllowedActions(domain.StatusDismissed); len(got) != 0 {
			t.Errorf("AllowedActions(dismissed) = %v, want none", got)
		}
		err := problemIn(domain.StatusDismissed).Permit(domain.ActionComment, verifier)
		te := transitionError(t, err, domain.ActionComment, domain.StatusDismissed)
		if len(te.Allowed) != 0 || !strings.HasSuffix(err.Error(), "allowed: none") {
			t.Errorf("dismissed: %v", err)
		}
	})
	t.Run("closed is left only by reopen", func(t *testing.T) {
		for _, a := range domain.Actions() {
			to, ok := domain.Transition(domain.StatusClosed, a)
			if ok && to != domain.StatusClosed && a != domain.ActionReopen {
				t.Errorf("%s leaves closed for %s", a, to)
			}
		}
		if to, ok := domain.Transition(domain.StatusClosed, domain.ActionReopen); !ok || to != domain.StatusRectifying {
			t.Errorf("reopen from closed = %s, %v; want rectifying", to, ok)
		}
	})
	t.Run("every action reaches its target from somewhere", func(t *testing.T) {
		for _, a := range domain.Actions() {
			if a == domain.ActionRegister {
				continue
			}
			found := false
			for _, s := range domain.Statuses() {
				if _, ok := domain.Transition(s, a); ok {
					found = true
				}
			}
			if !found {
				t.Errorf("action %s is allowed from no state", a)
			}
		}
	})
}

func TestStatus(t *testing.T) {
	labels := map[domain.Status]string{
		domain.StatusRegistered: "已登记", domain.StatusAssigned: "已交办", domain.StatusRectifying: "整改中",
		domain.StatusSubmitted: "待验收", domain.StatusClosed: "已销号", domain.StatusDismissed: "不予立项",
	}
	open := map[domain.Status]bool{domain.StatusAssigned: true, domain.StatusRectifying: true, domain.StatusSubmitted: true}
	for _, s := range domain.Statuses() {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if got := s.Label(); got != labels[s] {
			t.Errorf("%s.Label() = %q, want %q", s, got, labels[s])
		}
		if s.Open() != open[s] {
			t.Errorf("%s.Open() = %v", s, s.Open())
		}
	}
	for _, s := range []domain.Status{"", "Registered", "archived", " closed"} {
		if s.Valid() || s.Open() {
			t.Errorf("%q is valid or open", s)
		}
		if s.Label() != string(s) {
			t.Errorf("%q.Label() = %q, want the raw value", s, s.Label())
		}
	}
}

// TestAvailableActionsArePermits checks the list's shortcut against its
// judge: for every state, every set of roles and each relationship to the
// problem, the available actions are exactly those Permit allows.
func TestAvailableActionsArePermits(t *testing.T) {
	roles := domain.Roles()
	people := []struct {
		id   int64
		path string
	}{
		{ownerID, problemUnitPath}, {inspectorID, inspectUnitPath}, {verifierID, groupUnitPath},
		{otherOwnerID, childUnitPath}, {otherOwnerID, siblingUnitPath}, {otherOwnerID, lookAlikePath},
	}
	for _, s := range domain.Statuses() {
		p := problemIn(s)
		for mask := 0; mask < 1<<len(roles); mask++ {
			var rs []domain.Role
			for i, r := range roles {
				if mask&(1<<i) != 0 {
					rs = append(rs, r)
				}
			}
			for _, who := range people {
				a := actor(who.id, who.path, rs...)
				var want []domain.Action
				for _, x := range domain.Actions() {
					if x != domain.ActionRegister && p.Permit(x, a) == nil {
						want = append(want, x)
					}
				}
				if got := p.AvailableActions(a); !slices.Equal(got, want) {
					t.Errorf("%s, roles %v, user %d in %s: %v, want %v", s, rs, who.id, who.path, got, want)
				}
			}
		}
	}
}
