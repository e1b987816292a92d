package domain

import (
	"fmt"
	"strings"
	"time"
)

// CanSee reports whether actor may see problem p at all. Out of scope reads as absent (404).
func (a Actor) CanSee(p *Problem) bool {
	if a.SeesAllProblems() {
		return true
	}
	if p.AssigneeID != 0 && p.AssigneeID == a.UserID {
		return true
	}
	return a.Has(RoleOwner) && InSubtree(p.UnitPath, a.UnitPath)
}

// Permit says whether actor may attempt action a on p now: the role table, the
// lifecycle table, then the relationship rules. It does not check the payload.
// The order gives the most useful answer: a role that can never act gets 403,
// a state that does not allow the action gets 409, a wrong relationship 403.
func (p *Problem) Permit(a Action, actor Actor) error {
	_, err := p.permit(a, actor)
	return err
}

func (p *Problem) permit(a Action, actor Actor) (Status, error) {
	if roles := ActionRoles(a); roles != nil && !actor.HasAny(roles...) {
		return p.Status, roleError(a)
	}
	to, err := checkTransition(p.Status, a)
	if err != nil {
		return p.Status, err
	}
	switch a {
	case ActionEdit:
		if !actor.Has(RoleVerifier) && p.CreatedBy != actor.UserID {
			return p.Status, Forbidden("not_creator", "only the inspector who registered the problem or the working group may edit it")
		}
	case ActionAccept:
		if p.AssigneeID != actor.UserID && !InSubtree(p.UnitPath, actor.UnitPath) {
			return p.Status, Forbidden("not_responsible", "only the assignee or an owner of the responsible unit may accept")
		}
	case ActionProgress, ActionSubmit, ActionRequestExtension:
		if p.AssigneeID != actor.UserID {
			return p.Status, Forbidden("not_assignee", "only the assignee may %s", strings.ReplaceAll(string(a), "_", " "))
		}
	case ActionVerifyPass, ActionVerifyFail:
		if p.SubmittedBy == actor.UserID || p.AssigneeID == actor.UserID {
			return p.Status, Forbidden("four_eyes", "nobody verifies a fix they submitted or a problem assigned to them")
		}
	case ActionDecideExtension:
		if p.ExtensionCount+1 >= LeaderDecidesFromExtension && !actor.Has(RoleLeader) {
			return p.Status, Forbidden("leader_required",
				"the problem already had %d approved extension(s); extension number %d and later are decided by a leader",
				p.ExtensionCount, LeaderDecidesFromExtension)
		}
	}
	return to, nil
}

// AvailableActions lists the actions actor may attempt on p now (payload aside),
// for clients that show only the buttons that work.
//
// Every problem of a list page asks this for every action, and most are
// refused: the role and the state are checked first without building the
// refusal's error, and Permit, the one judge, sees only what passes them.
func (p *Problem) AvailableActions(actor Actor) []Action {
	var out []Action
	for _, a := range Actions() {
		if a == ActionRegister {
			continue
		}
		if roles := lifecycle[a].roles; roles != nil && !actor.HasAny(roles...) {
			continue
		}
		if _, ok := Transition(p.Status, a); !ok {
			continue
		}
		if p.Permit(a, actor) == nil {
			out = append(out, a)
		}
	}
	return out
}

func roleError(a Action) error {
	names := RoleNames(ActionRoles(a))
	return Forbidden("role_required", "%s requires one of the roles: %s", a, strings.Join(names, ", "))
}

// ExtensionStatus is where an extension request stands.
type ExtensionStatus string

// Extension states.
const (
	ExtensionPending  ExtensionStatus = "pending"
	ExtensionApproved ExtensionStatus = "approved"
	ExtensionRejected ExtensionStatus = "rejected"
)

// Extension is an assignee's request to move the deadline (延期申请).
type Extension struct {
	ID          int64
	ProblemID   int64
	RequestedBy int64
	OldDeadline Date
	Deadline    Date
	Reason      string
	Status      ExtensionStatus
	DecidedBy   int64
	Note        string
	CreatedAt   time.Time
	DecidedAt   *time.Time
}

// LeaderDecidesFromExtension is the first extension (counting approved ones,
// this one included) that a leader rather than the working group decides.
const LeaderDecidesFromExtension = 2

// ExtensionPolicy limits extensions (延期).
type ExtensionPolicy struct {
	Max int // approved extensions per problem
}

// DefaultExtensionPolicy allows two extensions per problem.
func DefaultExtensionPolicy() ExtensionPolicy { return ExtensionPolicy{Max: 2} }

// RequestExtension asks to move the deadline. hasPending says whether another
// request still awaits a decision; there is at most one at a time. A request
// must come on or before the deadline, and at most policy.Max extensions are
// approved per problem.
func (p *Problem) RequestExtension(deadline Date, reason string, hasPending bool, actor Actor, now time.Time, today Date, policy ExtensionPolicy) (*Extension, Change, error) {
	from := p.Status
	if err := p.Permit(ActionRequestExtension, actor); err != nil {
		return nil, Change{}, err
	}
	var v Validator
	v.Check(!deadline.IsZero(), "deadline", "is required")
	v.Check(deadline.IsZero() || deadline.After(p.Deadline), "deadline", "must be later than the current deadline %s", p.Deadline)
	v.Text("reason", reason, true, MaxReason)
	if err := v.Err(); err != nil {
		return nil, Change{}, err
	}
	if hasPending {
		return nil, Change{}, Conflict("an extension request for this problem already awaits a decision")
	}
	if p.ExtensionCount >= policy.Max {
		return nil, Change{}, Conflict("the problem already had %d approved extension(s); at most %d are allowed", p.ExtensionCount, policy.Max)
	}
	if today.After(p.Deadline) {
		return nil, Change{}, Conflict("the deadline %s has passed; an extension must be requested on or before the deadline", p.Deadline)
	}
	e := &Extension{ProblemID: p.ID, RequestedBy: actor.UserID, OldDeadline: p.Deadline, Deadline: deadline,
		Reason: reason, Status: ExtensionPending, CreatedAt: now}
	p.UpdatedAt = now
	return e, p.change(ActionRequestExtension, from, map[string]any{"deadline": deadline.String(), "reason": reason}), nil
}

// DecideExtension approves or rejects a pending request; an approval moves
// the deadline. From the LeaderDecidesFromExtension-th extension on, only a
// leader decides; no approval goes beyond policy.Max.
func (p *Problem) DecideExtension(e *Extension, approved bool, note string, actor Actor, now time.Time, policy ExtensionPolicy) (Change, error) {
	from := p.Status
	if err := p.Permit(ActionDecideExtension, actor); err != nil {
		return Change{}, err
	}
	if e.RequestedBy == actor.UserID {
		return Change{}, Forbidden("four_eyes", "nobody decides their own extension request")
	}
	if e.Status != ExtensionPending {
		return Change{}, Conflict("extension %d was already %s", e.ID, e.Status)
	}
	if e.ProblemID != p.ID {
		return Change{}, Conflict("extension %d belongs to another problem", e.ID)
	}
	if approved && p.ExtensionCount >= policy.Max {
		return Change{}, Conflict("the problem already had %d approved extension(s); at most %d are allowed", p.ExtensionCount, policy.Max)
	}
	if approved && !e.Deadline.After(p.Deadline) {
		return Change{}, Conflict("the requested deadline %s is no longer later than the current deadline %s", e.Deadline, p.Deadline)
	}
	var v Validator
	v.Text("note", note, !approved, MaxNote)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	d := map[string]any{"extension_id": e.ID, "approved": approved}
	if note != "" {
		d["note"] = note
	}
	e.Status, e.DecidedBy, e.Note, e.DecidedAt = ExtensionRejected, actor.UserID, note, &now
	if approved {
		e.Status = ExtensionApproved
		diff(d, "deadline", p.Deadline.String(), e.Deadline.String())
		p.Deadline = e.Deadline
		p.ExtensionCount++
	}
	p.UpdatedAt = now
	return p.change(ActionDecideExtension, from, d), nil
}

// String renders an extension for logs.
func (e *Extension) String() string {
	return fmt.Sprintf("extension %d of problem %d (%s)", e.ID, e.ProblemID, e.Status)
}
