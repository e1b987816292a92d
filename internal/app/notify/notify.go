package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/rectify-team/rectify/internal/domain"
)

// event is one thing to tell people, before it is written.
type event struct {
	kind    string
	problem *domain.Problem
	actor   *domain.Actor // nil for the system (the scheduler)
	to      []*app.User
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

// AnnounceRelapse tells the assignee and the problem's overseers that a
// re-check found the problem relapsed and reopened it.
func (s *Service) AnnounceRelapse(ctx context.Context, r app.Repos, c app.Caller, p *domain.Problem, note string, details map[string]any, now time.Time) error {
	overseers, err := s.overseers(ctx, r, p)
	if err != nil {
		return err
	}
	assignee, err := s.usersByID(ctx, r, []int64{p.AssigneeID})
	if err != nil {
		return err
	}
	return s.publish(ctx, r, event{kind: app.EventRelapsed, problem: p, actor: &c.Actor, title: "问题反弹·重新整改",
		to:      append(assignee, overseers...),
		lines:   []string{"回头看发现问题反弹：" + quote(note), "新整改期限：" + p.Deadline.String()},
		details: details}, now)
}

// Announce turns a lifecycle change into its event, if it has one.
func (s *Service) Announce(ctx context.Context, r app.Repos, c app.Caller, p *domain.Problem, ch domain.Change, now time.Time) error {
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
		ev.kind, ev.title = app.EventAssigned, "交办"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"整改期限：" + p.Deadline.String(), "整改措施：" + quote(p.Measures)}
	case domain.ActionUrge:
		ev.kind, ev.title = app.EventUrged, "督办"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"督办意见：" + note("note"), "整改期限：" + p.Deadline.String()}
	case domain.ActionVerifyFail:
		ev.kind, ev.title = app.EventSentBack, "退回重改"
		who = []int64{p.AssigneeID}
		ev.lines = []string{"退回意见：" + note("note"), "整改期限：" + p.Deadline.String()}
	case domain.ActionSubmit:
		ev.kind, ev.title = app.EventSubmitted, domain.StatusSubmitted.Label() // its new status
		if ev.to, err = s.workingGroup(ctx, r); err != nil {
			return err
		}
		ev.lines = []string{"整改情况：" + note("note"), "提交人：" + c.Actor.Name}
	case domain.ActionVerifyPass:
		ev.kind, ev.title = app.EventClosed, "销号"
		who = []int64{p.AssigneeID, p.CreatedBy}
		ev.lines = []string{"验收意见：" + note("note")}
	case domain.ActionDismiss:
		ev.kind, ev.title = app.EventDismissed, domain.StatusDismissed.Label()
		who = []int64{p.CreatedBy}
		ev.lines = []string{"理由：" + note("reason")}
	case domain.ActionReopen:
		ev.kind, ev.title = app.EventReopened, "回头看·重新整改"
		who = []int64{p.AssigneeID}
		if ev.to, err = s.leadersOf(ctx, r, p); err != nil {
			return err
		}
		ev.lines = []string{"理由：" + note("reason"), "新整改期限：" + p.Deadline.String()}
	case domain.ActionRequestExtension:
		ev.kind, ev.title = app.EventExtensionRequested, "延期申请"
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
		ev.kind, ev.title = app.EventExtensionDecided, "延期驳回"
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
func (s *Service) publish(ctx context.Context, r app.Repos, ev event, now time.Time) error {
	id := uuid.NewString()
	p := ev.problem
	title := fmt.Sprintf("【%s】%s %s", ev.title, p.Code, p.Title)
	body := strings.Join(ev.lines, "\n")

	seen := map[int64]bool{0: true}
	if ev.actor != nil {
		seen[ev.actor.UserID] = true
	}
	var (
		inbox      []*app.Notification
		recipients []map[string]any
		names      []string
	)
	for _, u := range ev.to {
		if u == nil || seen[u.ID] || u.Disabled {
			continue
		}
		seen[u.ID] = true
		inbox = append(inbox, &app.Notification{UserID: u.ID, EventID: id, Kind: ev.kind, ProblemID: p.ID,
			Title: app.Truncate(title, maxNotificationTitle), Body: body, CreatedAt: now})
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
	payload, err := json.Marshal(app.OutEvent{ID: id, Kind: ev.kind, OccurredAt: now, Title: title, Text: text, Data: raw})
	if err != nil {
		return fmt.Errorf("event %s: %w", ev.kind, err)
	}
	out := make([]*app.OutboxMessage, len(targets))
	for i, t := range targets {
		out[i] = &app.OutboxMessage{EventID: id, Target: t, Kind: ev.kind, Payload: payload, CreatedAt: now, NextAttemptAt: now}
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
func (s *Service) usersByID(ctx context.Context, r app.Repos, ids []int64) ([]*app.User, error) {
	var out []*app.User
	for _, id := range ids {
		if id == 0 || slices.ContainsFunc(out, func(u *app.User) bool { return u.ID == id }) {
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

// maxRecipientsOfRole bounds a role's recipients of one event.
const maxRecipientsOfRole = 1000

// workingGroup returns the enabled verifiers (工作小组).
func (s *Service) workingGroup(ctx context.Context, r app.Repos) ([]*app.User, error) {
	us, err := r.Users.List(ctx, app.UserQuery{Role: domain.RoleVerifier, Limit: maxRecipientsOfRole})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(us, func(u *app.User) bool { return u.Disabled }), nil
}

// leadersOf returns the enabled leaders of the problem's unit and of the units above it.
func (s *Service) leadersOf(ctx context.Context, r app.Repos, p *domain.Problem) ([]*app.User, error) {
	us, err := r.Users.List(ctx, app.UserQuery{Role: domain.RoleLeader, Limit: maxRecipientsOfRole})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(us, func(u *app.User) bool {
		return u.Disabled || u.UnitPath == "" || !strings.HasPrefix(p.UnitPath, u.UnitPath)
	}), nil
}

// overseers returns who oversees a problem that went wrong: the unit's
// leaders and the working group.
func (s *Service) overseers(ctx context.Context, r app.Repos, p *domain.Problem) ([]*app.User, error) {
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

// Notifications returns the caller's inbox, newest first.
func (s *Service) Notifications(ctx context.Context, c app.Caller, unreadOnly bool, beforeID int64, limit int) (*app.Inbox, error) {
	r := s.store.Read()
	items, err := r.Notifications.List(ctx, app.NotificationQuery{UserID: c.Actor.UserID, UnreadOnly: unreadOnly,
		BeforeID: beforeID, Limit: limit})
	if err != nil {
		return nil, err
	}
	n, err := r.Notifications.Unread(ctx, c.Actor.UserID)
	if err != nil {
		return nil, err
	}
	return &app.Inbox{Items: items, Unread: n}, nil
}

// MarkRead marks the caller's notifications with these ids read, or all of
// them when ids is nil; ids that are not the caller's unread ones are ignored
// (marking read twice is not an error). It returns how many it marked and the
// unread count after. Reading one's inbox is not audited: it changes nothing
// of the closed loop.
func (s *Service) MarkRead(ctx context.Context, c app.Caller, ids []int64) (marked, unread int64, err error) {
	err = s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		if marked, err = r.Notifications.MarkRead(ctx, c.Actor.UserID, ids, now); err != nil {
			return err
		}
		if unread, err = r.Notifications.Unread(ctx, c.Actor.UserID); err != nil {
			return err
		}
		return s.core.KeepResult(ctx, r, c, app.MarkReadResult{Marked: marked, Unread: unread})
	})
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		return 0, 0, err
	}
	return marked, unread, nil
}
