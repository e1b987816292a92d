// Package demo loads demo data drawn from the department's 作风建设提升年 plan
// (see plan.go): the department and its teams, a user for each role, and the
// plan's problems at every stage of the closed loop, with eight weeks of
// history so that the board, the warnings and the audit trail look alive.
package demo

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// historyDays is how far back the history starts. Day historyDays is today;
// every step happens on an earlier day, so nothing lies in the future.
const historyDays = 56

// Load fills a database that has no problems yet with the demo data and prints
// the demo accounts to out. A database that already has problems is left
// alone, so that loading twice adds nothing. It expects Bootstrap to have
// created the root unit and the user "admin".
func Load(ctx context.Context, store app.Store, keys *audit.Keys, cfg app.Config, out io.Writer) error {
	existing, err := store.Read().Problems.List(ctx, app.ProblemQuery{Scope: app.Scope{All: true}, Limit: 1})
	if err != nil {
		return fmt.Errorf("look for existing problems: %w", err)
	}
	if len(existing) > 0 {
		_, err := fmt.Fprintln(out, "Demo data is already present (the database has problems); nothing loaded.")
		return err
	}
	// The demo's history is dated in the past: after a signed checkpoint it
	// would be entries written below the checkpoint's coverage (docs/audit.md).
	if cp, err := store.Read().Audit.LatestCheckpoint(ctx); err != nil {
		return fmt.Errorf("look for audit checkpoints: %w", err)
	} else if cp != nil {
		_, err := fmt.Fprintln(out, "Demo data goes only into a new database: this one has signed audit checkpoints; nothing loaded.")
		return err
	}
	if err := checkPlan(); err != nil {
		return err
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}

	// Accounts and units go on the system stream, whose entries must follow
	// Bootstrap's in time: they are made now, on the wall clock.
	live := wire.New(store, keys, cfg)
	org, err := setUpOrg(ctx, live, store)
	if err != nil {
		return err
	}

	// The problems' history is played on a clock that starts historyDays ago.
	// Each problem has a stream of its own, and events are played in time
	// order across all problems, so the whole trail reads chronologically.
	h := newHistory(time.Now(), cfg.Location)
	// The plan's history predates evidence uploads: its fixes were submitted
	// on paper, so the evidence policy does not apply to the replay.
	history := cfg
	history.Evidence = domain.EvidencePolicy{}
	svc := wire.New(store, keys, history, wire.WithClock(h.now))
	counts, err := h.play(ctx, svc, store, org)
	if err != nil {
		return err
	}

	if _, err := live.Trail.Checkpoint(ctx); err != nil {
		return fmt.Errorf("sign the demo's audit trail: %w", err)
	}
	res, err := live.Trail.VerifyAudit(ctx, org.admin)
	if err != nil {
		return fmt.Errorf("verify the audit trail: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("the audit trail does not verify after loading the demo: %s", res.Reason)
	}
	return printSummary(out, org, counts, h.start)
}

// org is the demo organisation as stored.
type org struct {
	admin   app.Caller
	units   map[string]*app.Unit
	users   map[string]*app.User
	reused  map[string]bool // accounts that existed before this load
	cats    map[string]int64
	rootOrg string
}

// setUpOrg creates the demo units and accounts, reusing any that a previous,
// interrupted load left behind.
func setUpOrg(ctx context.Context, live *wire.Services, store app.Store) (*org, error) {
	r := store.Read()
	admin, err := r.Users.GetByUsername(ctx, "admin")
	if err != nil {
		return nil, fmt.Errorf("demo data needs the first admin (run Bootstrap first): %w", err)
	}
	o := &org{admin: caller(admin, "demo-setup"), units: map[string]*app.Unit{}, users: map[string]*app.User{},
		reused: map[string]bool{}, cats: map[string]int64{}}

	cats, err := r.Categories.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, c := range cats {
		o.cats[c.Code] = c.ID
	}

	units, err := live.Access.Units(ctx)
	if err != nil {
		return nil, err
	}
	root, err := r.Units.Get(ctx, admin.UnitID)
	if err != nil {
		return nil, fmt.Errorf("the admin's unit: %w", err)
	}
	o.rootOrg = root.Name
	for _, us := range demoUnits {
		parent := root.ID
		if us.parent != "" {
			parent = o.units[us.parent].ID
		}
		i := slices.IndexFunc(units, func(u *app.Unit) bool { return u.Name == us.name && u.ParentID == parent })
		if i >= 0 {
			o.units[us.name] = units[i]
			continue
		}
		u, err := live.Access.CreateUnit(ctx, o.admin, app.UnitInput{Name: us.name, ParentID: parent})
		if err != nil {
			return nil, fmt.Errorf("demo unit %s: %w", us.name, err)
		}
		o.units[us.name] = u
	}

	for _, us := range demoUsers {
		u, err := r.Users.GetByUsername(ctx, us.username)
		switch {
		case err == nil:
			for _, role := range us.roles {
				if !u.Actor().Has(domain.Role(role)) {
					return nil, fmt.Errorf("user %s already exists without the role %s; load the demo into an empty database", us.username, role)
				}
			}
			o.reused[us.username] = true
		case errors.Is(err, domain.ErrNotFound):
			u, err = live.Access.CreateUser(ctx, o.admin, app.UserInput{Username: us.username, Name: us.name,
				Password: us.password, Roles: us.roles, UnitID: o.units[us.unit].ID})
			if err != nil {
				return nil, fmt.Errorf("demo user %s: %w", us.username, err)
			}
		default:
			return nil, err
		}
		o.users[us.username] = u
	}
	return o, nil
}

func caller(u *app.User, requestID string) app.Caller {
	// 127.0.0.1 and the demo- request ids mark these entries as loaded, not typed in.
	return app.Caller{Actor: u.Actor(), IP: "127.0.0.1", RequestID: requestID}
}

// when is a moment of the history: a day number and a local clock time.
type when struct {
	day   int
	clock string // "15:04"
}

func on(day int, clock string) when { return when{day, clock} }

func (w when) String() string { return fmt.Sprintf("day %d %s", w.day, w.clock) }

// step is one action on a problem, by one demo user.
type step struct {
	at       when
	by       string
	action   domain.Action
	text     string // note, reason, measures or comment
	assignee string
	deadline int // day number: assign, reopen, extension request
	percent  int
	approved bool
	severity domain.Severity // edit
	result   string          // re-check: app.ResultHolds or app.ResultRelapsed
}

// actionRecheck is the demo's step of recording a 回头看 re-check.
const actionRecheck domain.Action = app.ActionRecheck

func recheck(at when, by, result, note string) step {
	return step{at: at, by: by, action: actionRecheck, result: result, text: note}
}

func assign(at when, by, assignee string, deadline int, measures string) step {
	return step{at: at, by: by, action: domain.ActionAssign, assignee: assignee, deadline: deadline, text: measures}
}

func accept(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionAccept, text: note}
}

func progress(at when, by string, percent int, note string) step {
	return step{at: at, by: by, action: domain.ActionProgress, percent: percent, text: note}
}

func submit(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionSubmit, text: note}
}

func pass(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionVerifyPass, text: note}
}

func fail(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionVerifyFail, text: note}
}

func dismiss(at when, by, reason string) step {
	return step{at: at, by: by, action: domain.ActionDismiss, text: reason}
}

func reopen(at when, by string, deadline int, reason string) step {
	return step{at: at, by: by, action: domain.ActionReopen, deadline: deadline, text: reason}
}

func urge(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionUrge, text: note}
}

func comment(at when, by, text string) step {
	return step{at: at, by: by, action: domain.ActionComment, text: text}
}

func requestExtension(at when, by string, deadline int, reason string) step {
	return step{at: at, by: by, action: domain.ActionRequestExtension, deadline: deadline, text: reason}
}

func approveExtension(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionDecideExtension, approved: true, text: note}
}

func rejectExtension(at when, by, note string) step {
	return step{at: at, by: by, action: domain.ActionDecideExtension, approved: false, text: note}
}

func edit(at when, by string, severity domain.Severity) step {
	return step{at: at, by: by, action: domain.ActionEdit, severity: severity}
}

// checkPlan catches mistakes in the demo tables before anything is written.
func checkPlan() error {
	units := map[string]bool{}
	for _, u := range demoUnits {
		if u.parent != "" && !units[u.parent] {
			return fmt.Errorf("demo unit %s: parent %s is not listed before it", u.name, u.parent)
		}
		units[u.name] = true
	}
	users := map[string]bool{}
	for _, u := range demoUsers {
		if !units[u.unit] {
			return fmt.Errorf("demo user %s: no demo unit %s", u.username, u.unit)
		}
		if _, err := domain.ParseRoles(u.roles); err != nil {
			return fmt.Errorf("demo user %s: %w", u.username, err)
		}
		users[u.username] = true
	}
	minutes := func(w when) (int, error) {
		t, err := time.Parse("15:04", w.clock)
		if err != nil || w.day < 0 || w.day >= historyDays {
			return 0, fmt.Errorf("%s is not a day 0-%d and a clock time", w, historyDays-1)
		}
		return w.day*24*60 + t.Hour()*60 + t.Minute(), nil
	}
	for _, p := range demoProblems {
		where := fmt.Sprintf("demo problem %q", p.title)
		if !units[p.unit] || !users[p.by] {
			return fmt.Errorf("%s: unknown unit %q or user %q", where, p.unit, p.by)
		}
		last, err := minutes(p.registered)
		if err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
		if p.found < 0 || p.found > p.registered.day {
			return fmt.Errorf("%s: found on day %d, after it was registered", where, p.found)
		}
		pending := false
		for _, s := range p.steps {
			m, err := minutes(s.at)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if m < last {
				return fmt.Errorf("%s: %s at %s comes before the step above it", where, s.action, s.at)
			}
			last = m
			if !users[s.by] || (s.assignee != "" && !users[s.assignee]) {
				return fmt.Errorf("%s: %s at %s names an unknown user", where, s.action, s.at)
			}
			switch s.action {
			case domain.ActionAssign, domain.ActionReopen, domain.ActionRequestExtension:
				if s.deadline < s.at.day {
					return fmt.Errorf("%s: %s at %s sets a deadline in the past", where, s.action, s.at)
				}
			}
			switch s.action {
			case domain.ActionRequestExtension:
				pending = true
			case domain.ActionDecideExtension:
				if !pending {
					return fmt.Errorf("%s: decision at %s without a pending request", where, s.at)
				}
				pending = false
			}
		}
	}
	return nil
}

// history plays the problems' paths on a clock of its own.
type history struct {
	loc   *time.Location
	start time.Time // midnight of day 0
	clock time.Time // the current moment of the history
}

func newHistory(now time.Time, loc *time.Location) *history {
	y, m, d := now.In(loc).Date()
	start := time.Date(y, m, d-historyDays, 0, 0, 0, 0, loc)
	return &history{loc: loc, start: start, clock: start}
}

func (h *history) now() time.Time { return h.clock }

func (h *history) at(w when) time.Time {
	t, _ := time.Parse("15:04", w.clock) // checked by checkPlan
	y, m, d := h.start.Date()
	return time.Date(y, m, d+w.day, t.Hour(), t.Minute(), 0, 0, h.loc)
}

func (h *history) date(day int) domain.Date {
	y, m, d := h.start.Date()
	return domain.NewDate(y, m, d+day)
}

// event is one step of one problem; step -1 is its registration.
type event struct {
	at      time.Time
	problem int
	step    int
}

// play registers the problems and drives them along their paths, all in time
// order. It returns how many problems ended in each state.
func (h *history) play(ctx context.Context, svc *wire.Services, store app.Store, o *org) (map[domain.Status]int, error) {
	var events []event
	for i, p := range demoProblems {
		events = append(events, event{h.at(p.registered), i, -1})
		for j, s := range p.steps {
			events = append(events, event{h.at(s.at), i, j})
		}
	}
	// Stable: equal times keep table order, so a problem's steps stay in order.
	slices.SortStableFunc(events, func(a, b event) int { return a.at.Compare(b.at) })

	ids := make([]int64, len(demoProblems))
	pendingExt := make([]int64, len(demoProblems))
	for n, ev := range events {
		h.clock = ev.at
		spec := demoProblems[ev.problem]
		rid := fmt.Sprintf("demo-%04d", n+1)
		if ev.step < 0 {
			cat, ok := o.cats[spec.category]
			if !ok {
				return nil, fmt.Errorf("demo problem %q: no category with code %s", spec.title, spec.category)
			}
			p, err := svc.Lifecycle.Register(ctx, caller(o.users[spec.by], rid), app.ProblemInput{
				Title: spec.title, Description: spec.description, CategoryID: cat, Severity: spec.severity,
				Source: spec.source, UnitID: o.units[spec.unit].ID, FoundAt: h.date(spec.found)})
			if err != nil {
				return nil, fmt.Errorf("demo problem %q: register: %w", spec.title, err)
			}
			ids[ev.problem] = p.ID
			continue
		}
		s := spec.steps[ev.step]
		ext, err := h.apply(ctx, svc, caller(o.users[s.by], rid), o, ids[ev.problem], pendingExt[ev.problem], s)
		if err != nil {
			return nil, fmt.Errorf("demo problem %q: %s at %s by %s: %w", spec.title, s.action, s.at, s.by, err)
		}
		pendingExt[ev.problem] = ext
	}

	counts := map[domain.Status]int{}
	for i, id := range ids {
		p, err := store.Read().Problems.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if p.Status != demoProblems[i].want {
			return nil, fmt.Errorf("demo problem %q ended %s, not %s", p.Title, p.Status, demoProblems[i].want)
		}
		counts[p.Status]++
	}
	return counts, nil
}

// apply performs one step. It returns the id of the problem's pending
// extension request after the step (0 when none).
func (h *history) apply(ctx context.Context, svc *wire.Services, c app.Caller, o *org, id, ext int64, s step) (int64, error) {
	var err error
	switch s.action {
	case domain.ActionAssign:
		_, err = svc.Lifecycle.Assign(ctx, c, id, 0, app.AssignInput{AssigneeID: o.users[s.assignee].ID,
			Deadline: h.date(s.deadline), Measures: s.text})
	case domain.ActionAccept:
		_, err = svc.Lifecycle.Accept(ctx, c, id, 0, s.text)
	case domain.ActionProgress:
		percent := s.percent
		_, err = svc.Lifecycle.Progress(ctx, c, id, 0, s.text, &percent)
	case domain.ActionSubmit:
		_, err = svc.Lifecycle.Submit(ctx, c, id, 0, s.text)
	case domain.ActionVerifyPass, domain.ActionVerifyFail:
		_, err = svc.Lifecycle.Verify(ctx, c, id, 0, s.action == domain.ActionVerifyPass, s.text)
	case domain.ActionDismiss:
		_, err = svc.Lifecycle.Dismiss(ctx, c, id, 0, s.text)
	case domain.ActionReopen:
		_, err = svc.Lifecycle.Reopen(ctx, c, id, 0, s.text, h.date(s.deadline))
	case domain.ActionUrge:
		_, err = svc.Lifecycle.Urge(ctx, c, id, 0, s.text)
	case domain.ActionComment:
		_, err = svc.Lifecycle.Comment(ctx, c, id, s.text)
	case domain.ActionRequestExtension:
		var e *domain.Extension
		if e, err = svc.Lifecycle.RequestExtension(ctx, c, id, 0, h.date(s.deadline), s.text); err == nil {
			return e.ID, nil
		}
	case domain.ActionDecideExtension:
		if _, err = svc.Lifecycle.DecideExtension(ctx, c, id, 0, ext, s.approved, s.text); err == nil {
			return 0, nil
		}
	case domain.ActionEdit:
		sev := s.severity
		_, err = svc.Lifecycle.Edit(ctx, c, id, 0, app.ProblemPatch{Severity: &sev})
	case actionRecheck: // the closure's earliest pending re-check
		var rcs []*app.Recheck
		rcs, _, err = svc.Lifecycle.Rechecks(ctx, c, app.RecheckFilter{ProblemID: id, Statuses: []app.RecheckStatus{app.RecheckPending}, Limit: 1})
		if err == nil && len(rcs) == 0 {
			err = errors.New("no pending re-check")
		}
		if err == nil {
			_, err = svc.Lifecycle.RecordRecheck(ctx, c, rcs[0].ID, app.RecheckInput{Result: s.result, Note: s.text})
		}
	default:
		err = fmt.Errorf("the demo has no step %s", s.action)
	}
	return ext, err
}

// printSummary prints what was loaded and the demo accounts, in one write
// whose failure is the caller's.
func printSummary(out io.Writer, o *org, counts map[domain.Status]int, start time.Time) error {
	var b strings.Builder
	total := 0
	var parts []string
	for _, st := range domain.Statuses() {
		total += counts[st]
		parts = append(parts, fmt.Sprintf("%s %s %d", st, st.Label(), counts[st]))
	}
	fmt.Fprintf(&b, "\nDemo data loaded under %s: %d problems of the 作风建设提升年 plan with history since %s\n  %s\n\n",
		o.rootOrg, total, start.Format(time.DateOnly), strings.Join(parts, " · "))
	fmt.Fprintln(&b, "DEMO-ONLY CREDENTIALS — anyone who reads this can sign in; never use them on a real system:")
	fmt.Fprintln(&b)
	// Chinese text goes last: tabwriter counts runes, not display width.
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	// into a strings.Builder, which never fails
	_, _ = fmt.Fprintln(tw, "  username\tpassword\troles\tname · unit · post")
	for _, us := range demoUsers {
		pw := us.password
		if o.reused[us.username] {
			pw += " (existing account: password unchanged)"
		}
		// into a strings.Builder, which never fails
		_, _ = fmt.Fprintf(tw, "  %s\t%s\t%s\t%s · %s · %s\n", us.username, pw, strings.Join(us.roles, ","), us.name, us.unit, us.post)
	}
	// into a strings.Builder, which never fails
	_, _ = fmt.Fprintln(tw, "  admin\t(set at first start)\tadmin\t系统管理员")
	_ = tw.Flush()
	fmt.Fprintln(&b)
	_, err := io.WriteString(out, b.String())
	return err
}
