package app

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rectify-team/rectify/internal/domain"
)

// Who is told what (docs/notifications.md keeps this table for people).
// Each event is written in the transaction of the change that caused it: an
// inbox entry per recipient, and an outbox row per webhook target that wants
// its kind. Nobody is told of their own act.

// Event kinds.
const (
	EventAssigned            = "problem.assigned"             // the assignee
	EventUrged               = "problem.urged"                // the assignee
	EventSentBack            = "problem.sent_back"            // the assignee
	EventSubmitted           = "problem.submitted"            // the working group
	EventClosed              = "problem.closed"               // the assignee and who registered it
	EventDismissed           = "problem.dismissed"            // who registered it
	EventReopened            = "problem.reopened"             // the assignee and the unit's leaders
	EventExtensionRequested  = "extension.requested"          // the working group; leaders too when a leader decides
	EventExtensionDecided    = "extension.decided"            // the requester
	EventDeadlineApproaching = "problem.deadline_approaching" // the assignee
	EventOverdue             = "problem.overdue"              // the assignee and the working group
	EventEscalated           = "problem.escalated"            // the assignee, the unit's leaders and the working group
	EventRecheckDue          = "recheck.due"                  // the working group
	EventRelapsed            = "problem.relapsed"             // the assignee, the unit's leaders and the working group
)

// EventKinds lists every kind, for webhook filters and the API's documents.
func EventKinds() []string {
	return []string{EventAssigned, EventUrged, EventSentBack, EventSubmitted, EventClosed, EventDismissed,
		EventReopened, EventExtensionRequested, EventExtensionDecided, EventDeadlineApproaching, EventOverdue,
		EventEscalated, EventRecheckDue, EventRelapsed}
}

// Webhooks are the configured outgoing webhooks; the dispatcher (outbox.go)
// delivers through them. cmd/rectify adapts internal/webhook to it.
type Webhooks interface {
	// Targets names the targets that receive events of this kind.
	Targets(kind string) []string
	// Deliver makes one attempt to deliver ev to the named target; nil means
	// the target acknowledged it.
	Deliver(ctx context.Context, target string, ev OutEvent) error
}

// WithWebhooks sets the outgoing webhooks; without them events reach the inbox only.
func WithWebhooks(w Webhooks) Option { return func(o *Options) { o.Webhooks = w } }

// event is one thing to tell people, before it is written.
type event struct {
	kind    string
	problem *domain.Problem
	actor   *domain.Actor // nil for the system (the scheduler)
	to      []*User
	title   string // after the 【label】 and the problem's code
	lines   []string
	details map[string]any
}

// maxNoteInNotice bounds a quoted note in a notification's text.
const maxNoteInNotice = 200

// quote returns a user's note, shortened for a notification.
func quote(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > maxNoteInNotice {
		return string(r[:maxNoteInNotice]) + "…"
	}
	return s
}

// announce turns a lifecycle change into its event, if it has one.
func (s *Service) announce(ctx context.Context, r Repos, c Caller, p *domain.Problem, ch domain.Change, now time.Time) error {
	note := func(key string) string {
		v, _ := ch.Details[key].(string)
		return quote(v)
	}
	ev := event{problem: p, actor: &c.Actor, details: ch.Details}
	var (
		who []int64
		err error
	)
	switch ch.Action {
	case domain.ActionAssign:
		ev.kind, ev.title = EventAssigned, "交办"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"整改期限：" + p.Deadline.String(), "整改措施：" + quote(p.Measures)}
	case domain.ActionUrge:
		ev.kind, ev.title = EventUrged, "督办"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"督办意见：" + note("note"), "整改期限：" + p.Deadline.String()}
	case domain.ActionVerifyFail:
		ev.kind, ev.title = EventSentBack, "退回重改"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"退回意见：" + note("note"), "整改期限：" + p.Deadline.String()}
	case domain.ActionSubmit:
		ev.kind, ev.title = EventSubmitted, domain.StatusSubmitted.Label() // its new status
		if ev.to, err = s.workingGroup(ctx, r); err != nil {
			return err
		}
		ev.lines = []string{"整改情况：" + note("note"), "提交人：" + c.Actor.Name}
	case domain.ActionVerifyPass:
		ev.kind, ev.title = EventClosed, "销号"
		who = []int64{p.AssigneeID, p.CreatedBy}
		ev.lines = []string{"验收意见：" + note("note")}
	case domain.ActionDismiss:
		ev.kind, ev.title = EventDismissed, domain.StatusDismissed.Label()
		who = []int64{p.CreatedBy}
		ev.lines = []string{"理由：" + note("reason")}
	case domain.ActionReopen:
		ev.kind, ev.title = EventReopened, "回头看·重新整改"
		who = []int64{p.AssigneeID}
		if ev.to, err = s.leadersOf(ctx, r, p); err != nil {
			return err
		}
		ev.lines = []string{"理由：" + note("reason"), "新整改期限：" + p.Deadline.String()}
	case domain.ActionRequestExtension:
		ev.kind, ev.title = EventExtensionRequested, "延期申请"
		if ev.to, err = s.workingGroup(ctx, r); err != nil {
			return err
		}
		if p.ExtensionCount+1 >= domain.LeaderDecidesFromExtension { // a leader decides this one
			leaders, err := s.leadersOf(ctx, r, p)
			if err != nil {
				return err
			}
			ev.to = append(ev.to, leaders...)
		}
		ev.lines = []string{"申请期限：" + fmt.Sprint(ch.Details["deadline"]), "理由：" + note("reason")}
	case domain.ActionDecideExtension:
		id, _ := ch.Details["extension_id"].(int64)
		e, err := r.Extensions.Get(ctx, p.ID, id)
		if err != nil {
			return err
		}
		ev.kind, ev.title = EventExtensionDecided, "延期驳回"
		if e.Status == domain.ExtensionApproved {
			ev.title = "延期批准"
		}
		who = []int64{e.RequestedBy}
		ev.lines = []string{"整改期限：" + p.Deadline.String(), "意见：" + quote(e.Note)}
	default:
		return nil // registering, editing, accepting, progress and comments tell nobody
	}
	users, err := s.usersByID(ctx, r, who)
	if err != nil {
		return err
	}
	ev.to = append(ev.to, users...)
	return s.publish(ctx, r, ev, now)
}

// publish writes an event: an inbox entry for each recipient but the actor,
// and an outbox row for each webhook target that wants its kind.
func (s *Service) publish(ctx context.Context, r Repos, ev event, now time.Time) error {
	id := uuid.NewString()
	p := ev.problem
	title := fmt.Sprintf("【%s】%s %s", ev.title, p.Code, p.Title)
	body := strings.Join(ev.lines, "\n")

	seen := map[int64]bool{0: true}
	if ev.actor != nil {
		seen[ev.actor.UserID] = true
	}
	var (
		inbox      []*Notification
		recipients []map[string]any
		names      []string
	)
	for _, u := range ev.to {
		if u == nil || seen[u.ID] || u.Disabled {
			continue
		}
		seen[u.ID] = true
		inbox = append(inbox, &Notification{UserID: u.ID, EventID: id, Kind: ev.kind, ProblemID: p.ID,
			Title: truncate(title, maxNotificationTitle), Body: body, CreatedAt: now})
		recipients = append(recipients, map[string]any{"id": u.ID, "username": u.Username, "name": u.Name})
		names = append(names, u.Name)
	}
	if len(inbox) > 0 {
		if err := r.Notifications.Create(ctx, inbox); err != nil {
			return err
		}
	}
	if s.hooks == nil {
		return nil
	}
	targets := s.hooks.Targets(ev.kind)
	if len(targets) == 0 {
		return nil
	}
	text := body
	if len(names) > 0 {
		text = "通知：" + strings.Join(names, "、") + "\n" + body
	}
	data := map[string]any{
		"problem": map[string]any{"id": p.ID, "code": p.Code, "title": p.Title, "status": p.Status,
			"severity": p.Severity, "unit_id": p.UnitID, "assignee_id": nullID(p.AssigneeID),
			"deadline": nullDate(p.Deadline), "version": p.Version},
		"recipients": recipients,
		"details":    ev.details,
		"actor":      nil,
	}
	if recipients == nil {
		data["recipients"] = []any{}
	}
	if ev.actor != nil {
		data["actor"] = map[string]any{"id": ev.actor.UserID, "username": ev.actor.Username, "name": ev.actor.Name}
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.kind, err)
	}
	payload, err := json.Marshal(OutEvent{ID: id, Kind: ev.kind, OccurredAt: now, Title: title, Text: text, Data: raw})
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.kind, err)
	}
	out := make([]*OutboxMessage, len(targets))
	for i, t := range targets {
		out[i] = &OutboxMessage{EventID: id, Target: t, Kind: ev.kind, Payload: payload, CreatedAt: now, NextAttemptAt: now}
	}
	return r.Outbox.Add(ctx, out)
}

// maxNotificationTitle is the inbox title's column size, in characters.
const maxNotificationTitle = 300

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullDate(d domain.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

// usersByID loads the users with these ids; zero ids are skipped.
func (s *Service) usersByID(ctx context.Context, r Repos, ids []int64) ([]*User, error) {
	var out []*User
	for _, id := range ids {
		if id == 0 || slices.ContainsFunc(out, func(u *User) bool { return u.ID == id }) {
			continue
		}
		u, err := r.Users.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("recipient %d: %w", id, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// usersOnce remembers the users one transaction read by id: an action reads
// its assignee to check it and again to tell them. Users do not change within
// a lifecycle action's transaction.
type usersOnce struct {
	UserRepo
	byID map[int64]*User
}

func (u *usersOnce) Get(ctx context.Context, id int64) (*User, error) {
	if x, ok := u.byID[id]; ok {
		return x, nil
	}
	x, err := u.UserRepo.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.byID == nil {
		u.byID = map[int64]*User{}
	}
	u.byID[id] = x
	return x, nil
}

// maxRecipientsOfRole bounds a role's recipients of one event.
const maxRecipientsOfRole = 1000

// workingGroup returns the enabled verifiers (工作小组).
func (s *Service) workingGroup(ctx context.Context, r Repos) ([]*User, error) {
	us, err := r.Users.List(ctx, UserQuery{Role: domain.RoleVerifier, Limit: maxRecipientsOfRole})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(us, func(u *User) bool { return u.Disabled }), nil
}

// leadersOf returns the enabled leaders of the problem's unit and of the units above it.
func (s *Service) leadersOf(ctx context.Context, r Repos, p *domain.Problem) ([]*User, error) {
	us, err := r.Users.List(ctx, UserQuery{Role: domain.RoleLeader, Limit: maxRecipientsOfRole})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(us, func(u *User) bool {
		return u.Disabled || u.UnitPath == "" || !strings.HasPrefix(p.UnitPath, u.UnitPath)
	}), nil
}

// overseers returns who oversees a problem that went wrong: the unit's
// leaders and the working group.
func (s *Service) overseers(ctx context.Context, r Repos, p *domain.Problem) ([]*User, error) {
	leaders, err := s.leadersOf(ctx, r, p)
	if err != nil {
		return nil, err
	}
	group, err := s.workingGroup(ctx, r)
	if err != nil {
		return nil, err
	}
	return append(leaders, group...), nil
}

// Inbox is a page of the caller's notifications and their unread count.
type Inbox struct {
	Items  []*Notification
	Unread int64
}

// Notifications returns the caller's inbox, newest first.
func (s *Service) Notifications(ctx context.Context, c Caller, unreadOnly bool, beforeID int64, limit int) (*Inbox, error) {
	r := s.store.Read()
	items, err := r.Notifications.List(ctx, NotificationQuery{UserID: c.Actor.UserID, UnreadOnly: unreadOnly,
		BeforeID: beforeID, Limit: limit})
	if err != nil {
		return nil, err
	}
	n, err := r.Notifications.Unread(ctx, c.Actor.UserID)
	if err != nil {
		return nil, err
	}
	return &Inbox{Items: items, Unread: n}, nil
}

// MarkRead marks the caller's notifications with these ids read, or all of
// them when ids is nil; ids that are not the caller's unread ones are ignored
// (marking read twice is not an error). It returns how many it marked and the
// unread count after. Reading one's inbox is not audited: it changes nothing
// of the closed loop.
func (s *Service) MarkRead(ctx context.Context, c Caller, ids []int64) (marked, unread int64, err error) {
	err = s.store.Tx(ctx, func(r Repos) error {
		now := s.now()
		if err := s.claimKey(ctx, r, c, now); err != nil {
			return err
		}
		if marked, err = r.Notifications.MarkRead(ctx, c.Actor.UserID, ids, now); err != nil {
			return err
		}
		if unread, err = r.Notifications.Unread(ctx, c.Actor.UserID); err != nil {
			return err
		}
		return s.rememberResponse(ctx, r, c, MarkReadResult{Marked: marked, Unread: unread})
	})
	if err = s.keyTaken(ctx, c, err); err != nil {
		return 0, 0, err
	}
	return marked, unread, nil
}

// MarkReadResult is what marking notifications read answers.
type MarkReadResult struct {
	Marked int64
	Unread int64
}
