package domain

import "slices"

// Status is where a problem stands in the closed loop.
type Status string

// The lifecycle states.
const (
	StatusRegistered Status = "registered" // 已登记
	StatusAssigned   Status = "assigned"   // 已交办
	StatusRectifying Status = "rectifying" // 整改中
	StatusSubmitted  Status = "submitted"  // 待验收
	StatusClosed     Status = "closed"     // 已销号
	StatusDismissed  Status = "dismissed"  // 不予立项
)

// Statuses lists every state in lifecycle order.
func Statuses() []Status {
	return []Status{StatusRegistered, StatusAssigned, StatusRectifying, StatusSubmitted, StatusClosed, StatusDismissed}
}

// Valid reports whether s is a known state.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Open reports whether the problem is assigned and not yet closed: the states
// in which its deadline runs.
func (s Status) Open() bool {
	return s == StatusAssigned || s == StatusRectifying || s == StatusSubmitted
}

// Action is something a user does to a problem.
type Action string

// The lifecycle actions. Verify is two actions because they lead to different states.
const (
	ActionRegister         Action = "register"
	ActionEdit             Action = "edit"
	ActionAssign           Action = "assign"
	ActionAccept           Action = "accept"
	ActionProgress         Action = "progress"
	ActionSubmit           Action = "submit"
	ActionVerifyPass       Action = "verify_pass"
	ActionVerifyFail       Action = "verify_fail"
	ActionDismiss          Action = "dismiss"
	ActionReopen           Action = "reopen"
	ActionRequestExtension Action = "request_extension"
	ActionDecideExtension  Action = "decide_extension"
	ActionUrge             Action = "urge"
	ActionComment          Action = "comment"
)

// Actions lists every lifecycle action in table order.
func Actions() []Action {
	return []Action{ActionRegister, ActionEdit, ActionAssign, ActionAccept, ActionProgress, ActionSubmit,
		ActionVerifyPass, ActionVerifyFail, ActionDismiss, ActionReopen, ActionRequestExtension,
		ActionDecideExtension, ActionUrge, ActionComment}
}

// rule is one row of the lifecycle table.
type rule struct {
	from  []Status // states the action may start from; empty for register
	to    Status   // resulting state; "" leaves the state unchanged
	roles []Role   // roles that may attempt it; nil means anyone who can see the problem
}

// lifecycle is the single source of truth for transitions and the roles that
// may attempt them. Relationship rules (assignee only, four-eyes) are in policy.go.
var lifecycle = map[Action]rule{
	ActionRegister:         {from: nil, to: StatusRegistered, roles: []Role{RoleInspector, RoleVerifier}},
	ActionEdit:             {from: []Status{StatusRegistered}, roles: []Role{RoleInspector, RoleVerifier}},
	ActionAssign:           {from: []Status{StatusRegistered, StatusAssigned, StatusRectifying}, to: StatusAssigned, roles: []Role{RoleVerifier}},
	ActionAccept:           {from: []Status{StatusAssigned}, to: StatusRectifying, roles: []Role{RoleOwner}},
	ActionProgress:         {from: []Status{StatusRectifying}, roles: []Role{RoleOwner}},
	ActionSubmit:           {from: []Status{StatusRectifying}, to: StatusSubmitted, roles: []Role{RoleOwner}},
	ActionVerifyPass:       {from: []Status{StatusSubmitted}, to: StatusClosed, roles: []Role{RoleVerifier}},
	ActionVerifyFail:       {from: []Status{StatusSubmitted}, to: StatusRectifying, roles: []Role{RoleVerifier}},
	ActionDismiss:          {from: []Status{StatusRegistered, StatusAssigned}, to: StatusDismissed, roles: []Role{RoleVerifier}},
	ActionReopen:           {from: []Status{StatusClosed}, to: StatusRectifying, roles: []Role{RoleVerifier}},
	ActionRequestExtension: {from: []Status{StatusAssigned, StatusRectifying}, roles: []Role{RoleOwner}},
	ActionDecideExtension:  {from: []Status{StatusAssigned, StatusRectifying, StatusSubmitted}, roles: []Role{RoleVerifier, RoleLeader}},
	ActionUrge:             {from: []Status{StatusAssigned, StatusRectifying}, roles: []Role{RoleVerifier}},
	ActionComment:          {from: []Status{StatusRegistered, StatusAssigned, StatusRectifying, StatusSubmitted, StatusClosed}},
}

// Transition returns the state an action leads to from a state, and whether it is allowed at all.
// Actions that leave the state unchanged return from itself.
func Transition(from Status, a Action) (Status, bool) {
	r, ok := lifecycle[a]
	if !ok || !slices.Contains(r.from, from) {
		return from, false
	}
	if r.to == "" {
		return from, true
	}
	return r.to, true
}

// AllowedActions lists the actions the table allows from a state, in table order.
func AllowedActions(from Status) []Action {
	var out []Action
	for _, a := range Actions() {
		if _, ok := Transition(from, a); ok {
			out = append(out, a)
		}
	}
	return out
}

// ActionRoles lists the roles that may attempt an action; nil means anyone who can see the problem.
func ActionRoles(a Action) []Role { return slices.Clone(lifecycle[a].roles) }

// checkTransition returns the target state or an *InvalidTransitionError.
func checkTransition(from Status, a Action) (Status, error) {
	to, ok := Transition(from, a)
	if !ok {
		return from, &InvalidTransitionError{Action: a, From: from, Allowed: AllowedActions(from)}
	}
	return to, nil
}
