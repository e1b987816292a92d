package domain

import (
	"slices"
	"strings"
	"time"
)

// Severity grades a problem; it sets the default deadline.
type Severity string

// Severities.
const (
	SeverityGeneral  Severity = "general"  // 一般
	SeveritySerious  Severity = "serious"  // 较重
	SeverityCritical Severity = "critical" // 严重
)

// Severities lists every severity, mildest first.
func Severities() []Severity { return []Severity{SeverityGeneral, SeveritySerious, SeverityCritical} }

// Valid reports whether s is known.
func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Source says how a problem was found.
type Source string

// Sources.
const (
	SourceSelfCheck   Source = "self_check"  // 自查
	SourceSpotCheck   Source = "spot_check"  // 抽查
	SourceInspection  Source = "inspection"  // 检查
	SourceSupervision Source = "supervision" // 督查
	SourceReport      Source = "report"      // 反映
)

// Sources lists every source.
func Sources() []Source {
	return []Source{SourceSelfCheck, SourceSpotCheck, SourceInspection, SourceSupervision, SourceReport}
}

// Valid reports whether s is known.
func (s Source) Valid() bool { return slices.Contains(Sources(), s) }

// Text length limits, in characters. They are named in validation errors.
const (
	MaxTitle       = 200
	MaxDescription = 4000
	MaxMeasures    = 4000
	MaxNote        = 2000
	MaxReason      = 1000
	MaxComment     = 2000
)

// DeadlinePolicy holds the configurable deadline rules.
type DeadlinePolicy struct {
	GeneralDays  int // default days to rectify a general problem
	SeriousDays  int
	CriticalDays int
	YellowDays   int // a deadline within this many days shows yellow
}

// DefaultDeadlinePolicy is PRODUCT.md's default: 30, 15 and 7 days; yellow within 3.
func DefaultDeadlinePolicy() DeadlinePolicy {
	return DeadlinePolicy{GeneralDays: 30, SeriousDays: 15, CriticalDays: 7, YellowDays: 3}
}

// DefaultDeadline returns the deadline for a problem of severity s assigned on today.
func (p DeadlinePolicy) DefaultDeadline(s Severity, today Date) Date {
	switch s {
	case SeverityCritical:
		return today.AddDays(p.CriticalDays)
	case SeveritySerious:
		return today.AddDays(p.SeriousDays)
	}
	return today.AddDays(p.GeneralDays)
}

// Problem is one entry of the problem list and its rectification state.
type Problem struct {
	ID          int64
	Code        string // WT-YYYY-NNNNNN
	Title       string
	Description string
	CategoryID  int64
	Severity    Severity
	Source      Source
	UnitID      int64  // the responsible unit
	UnitPath    string // its materialised path, for scope checks
	FoundAt     Date

	Status         Status
	Version        int64
	AssigneeID     int64 // 0 when not assigned
	Deadline       Date
	Measures       string
	Percent        int // progress, in percent
	ReworkCount    int
	ReopenCount    int
	ExtensionCount int
	ClosedOnTime   *bool
	SubmittedBy    int64
	Milestones     []Milestone // the plan, by due date; loaded and saved with the problem

	CreatedBy   int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
	AssignedAt  *time.Time
	SubmittedAt *time.Time
	ClosedAt    *time.Time
}

// WarningLevel is the traffic light of a deadline (红黄绿灯).
type WarningLevel string

// Warning levels; the empty level means the problem has no running deadline.
const (
	WarningNone   WarningLevel = ""
	WarningGreen  WarningLevel = "green"
	WarningYellow WarningLevel = "yellow"
	WarningRed    WarningLevel = "red"
)

// Valid reports whether w is one of green, yellow, red.
func (w WarningLevel) Valid() bool {
	return w == WarningGreen || w == WarningYellow || w == WarningRed
}

// Warning computes the traffic light on date today. Open problems are red when
// overdue, and yellow within yellowDays of the deadline or when behind their
// plan (a milestone's due date passed while it is not done: 序时进度); a closed
// problem keeps whether it closed on time; registered and dismissed problems
// have none.
func (p *Problem) Warning(today Date, yellowDays int) WarningLevel {
	switch {
	case p.Status == StatusClosed && p.ClosedOnTime != nil:
		if *p.ClosedOnTime {
			return WarningGreen
		}
		return WarningRed
	case !p.Status.Open() || p.Deadline.IsZero():
		return WarningNone
	case p.Deadline.Before(today):
		return WarningRed
	case !p.Deadline.After(today.AddDays(yellowDays)) || p.BehindSchedule(today):
		return WarningYellow
	}
	return WarningGreen
}

// Overdue reports whether an open problem's deadline has passed.
func (p *Problem) Overdue(today Date) bool {
	return p.Status.Open() && !p.Deadline.IsZero() && p.Deadline.Before(today)
}

// Change is what one action did: the audit trail records it.
type Change struct {
	Action  Action
	From    Status
	To      Status
	Details map[string]any
}

func (p *Problem) change(a Action, from Status, details map[string]any) Change {
	if details == nil {
		details = map[string]any{}
	}
	return Change{Action: a, From: from, To: p.Status, Details: details}
}

// diff records old → new of a field in details when it changed.
func diff[T comparable](details map[string]any, field string, old, new T) {
	if old != new {
		details[field] = map[string]any{"from": old, "to": new}
	}
}

// ProblemFields are the fields an inspector registers and may edit.
type ProblemFields struct {
	Title       string
	Description string
	CategoryID  int64
	Severity    Severity
	Source      Source
	UnitID      int64
	UnitPath    string
	FoundAt     Date
}

// Validate checks the fields' shape; the app checks that category and unit exist.
func (f ProblemFields) Validate(today Date) error {
	var v Validator
	v.Text("title", f.Title, true, MaxTitle)
	v.Text("description", f.Description, false, MaxDescription)
	v.Check(f.CategoryID > 0, "category_id", "is required")
	v.Check(f.Severity.Valid(), "severity", "must be one of general, serious, critical")
	v.Check(f.Source.Valid(), "source", "must be one of self_check, spot_check, inspection, supervision, report")
	v.Check(f.UnitID > 0, "unit_id", "is required")
	v.Check(!f.FoundAt.IsZero(), "found_at", "is required")
	v.Check(f.FoundAt.IsZero() || !f.FoundAt.After(today), "found_at", "lies in the future")
	return v.Err()
}

// Register creates a problem in state registered.
func Register(f ProblemFields, actor Actor, now time.Time, today Date) (*Problem, Change, error) {
	if !actor.HasAny(ActionRoles(ActionRegister)...) {
		return nil, Change{}, roleError(ActionRegister)
	}
	f.Title = strings.TrimSpace(f.Title)
	if err := f.Validate(today); err != nil {
		return nil, Change{}, err
	}
	p := &Problem{
		Title: f.Title, Description: f.Description, CategoryID: f.CategoryID, Severity: f.Severity,
		Source: f.Source, UnitID: f.UnitID, UnitPath: f.UnitPath, FoundAt: f.FoundAt,
		Status: StatusRegistered, Version: 1, CreatedBy: actor.UserID, CreatedAt: now, UpdatedAt: now,
	}
	details := map[string]any{"title": p.Title, "category_id": p.CategoryID, "severity": p.Severity,
		"source": p.Source, "unit_id": p.UnitID, "found_at": p.FoundAt.String()}
	return p, Change{Action: ActionRegister, To: StatusRegistered, Details: details}, nil
}

// Edit replaces the registered fields.
func (p *Problem) Edit(f ProblemFields, actor Actor, now time.Time, today Date) (Change, error) {
	from := p.Status
	if err := p.Permit(ActionEdit, actor); err != nil {
		return Change{}, err
	}
	f.Title = strings.TrimSpace(f.Title)
	if err := f.Validate(today); err != nil {
		return Change{}, err
	}
	d := map[string]any{}
	diff(d, "title", p.Title, f.Title)
	diff(d, "description", p.Description, f.Description)
	diff(d, "category_id", p.CategoryID, f.CategoryID)
	diff(d, "severity", p.Severity, f.Severity)
	diff(d, "source", p.Source, f.Source)
	diff(d, "unit_id", p.UnitID, f.UnitID)
	diff(d, "found_at", p.FoundAt.String(), f.FoundAt.String())
	p.Title, p.Description, p.CategoryID, p.Severity = f.Title, f.Description, f.CategoryID, f.Severity
	p.Source, p.UnitID, p.UnitPath, p.FoundAt = f.Source, f.UnitID, f.UnitPath, f.FoundAt
	p.UpdatedAt = now
	return p.change(ActionEdit, from, d), nil
}

// Assignee is what the domain needs to know about a prospective assignee.
type Assignee struct {
	ID       int64
	Roles    []Role
	Disabled bool
}

// AssignCmd carries an assignment (交办).
type AssignCmd struct {
	Assignee Assignee
	UnitID   int64 // 0 keeps the current responsible unit
	UnitPath string
	Deadline Date // zero keeps the current deadline, or applies the severity default
	Measures string
	// Milestones, when not nil, replace the open milestones (done ones are
	// kept); an empty, non-nil list clears them. Nil keeps the plan.
	Milestones []MilestonePlan
}

// Assign hands the problem to an owner with a deadline and measures, or reassigns it.
func (p *Problem) Assign(c AssignCmd, actor Actor, now time.Time, today Date, policy DeadlinePolicy) (Change, error) {
	from := p.Status
	to, err := p.permit(ActionAssign, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Check(c.Assignee.ID > 0, "assignee_id", "is required")
	v.Check(c.Assignee.ID <= 0 || slices.Contains(c.Assignee.Roles, RoleOwner), "assignee_id", "the assignee must hold the owner role")
	v.Check(!c.Assignee.Disabled, "assignee_id", "the assignee is disabled")
	v.Check(c.Deadline.IsZero() || !c.Deadline.Before(today), "deadline", "lies in the past")
	v.Text("measures", c.Measures, p.Measures == "", MaxMeasures)
	deadline := c.Deadline
	if deadline.IsZero() {
		deadline = p.Deadline
	}
	if deadline.IsZero() {
		deadline = policy.DefaultDeadline(p.Severity, today)
	}
	validatePlan(&v, c.Milestones, today, deadline)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	measures := p.Measures
	if strings.TrimSpace(c.Measures) != "" {
		measures = c.Measures
	}
	d := map[string]any{}
	diff(d, "assignee_id", p.AssigneeID, c.Assignee.ID)
	diff(d, "deadline", p.Deadline.String(), deadline.String())
	diff(d, "measures", p.Measures, measures)
	if c.UnitID > 0 {
		diff(d, "unit_id", p.UnitID, c.UnitID)
		p.UnitID, p.UnitPath = c.UnitID, c.UnitPath
	}
	if c.Milestones != nil {
		d["milestones"] = planDetails(c.Milestones)
		p.replacePlan(c.Milestones)
	}
	p.AssigneeID, p.Deadline, p.Measures = c.Assignee.ID, deadline, measures
	p.Status, p.UpdatedAt, p.AssignedAt = to, now, &now
	return p.change(ActionAssign, from, d), nil
}

// Accept is the assignee's or unit owner's sign-for (签收).
func (p *Problem) Accept(note string, actor Actor, now time.Time) (Change, error) {
	return p.noteAction(ActionAccept, note, false, actor, now)
}

// Urge records a verifier's 督办.
func (p *Problem) Urge(note string, actor Actor, now time.Time) (Change, error) {
	return p.noteAction(ActionUrge, note, true, actor, now)
}

// Comment adds a remark; anyone who sees the problem may comment unless it is dismissed.
func (p *Problem) Comment(text string, actor Actor, now time.Time) (Change, error) {
	from := p.Status
	if err := p.Permit(ActionComment, actor); err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("text", text, true, MaxComment)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	return p.change(ActionComment, from, map[string]any{"text": text}), nil
}

func (p *Problem) noteAction(a Action, note string, required bool, actor Actor, now time.Time) (Change, error) {
	from := p.Status
	to, err := p.permit(a, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("note", note, required, MaxNote)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	p.Status, p.UpdatedAt = to, now
	return p.change(a, from, noteDetails(note)), nil
}

func noteDetails(note string) map[string]any {
	if note == "" {
		return map[string]any{}
	}
	return map[string]any{"note": note}
}

// Progress records the assignee's progress report.
func (p *Problem) Progress(note string, percent *int, actor Actor, now time.Time) (Change, error) {
	return p.Report(ProgressReport{Note: note, Percent: percent}, actor, now)
}

// ProgressReport is what an assignee reports while rectifying.
type ProgressReport struct {
	Note         string
	Percent      *int
	MilestoneIDs []int64    // milestones now done
	Evidence     []Evidence // attachments of the report
}

// Report records a progress report: the note, the percent, the milestones it
// ticks off and the attachments it brings.
func (p *Problem) Report(r ProgressReport, actor Actor, now time.Time) (Change, error) {
	from := p.Status
	if err := p.Permit(ActionProgress, actor); err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("note", r.Note, true, MaxNote)
	v.Check(r.Percent == nil || (*r.Percent >= 0 && *r.Percent <= 100), "percent", "must be between 0 and 100")
	v.Check(len(r.Evidence) <= MaxAttachmentsPerAction, "attachment_ids", "at most %d attachments per report", MaxAttachmentsPerAction)
	before := slices.Clone(p.Milestones)
	ticked := p.tickMilestones(&v, r.MilestoneIDs, actor, now)
	if err := v.Err(); err != nil {
		p.Milestones = before
		return Change{}, err
	}
	d := noteDetails(r.Note)
	if r.Percent != nil {
		diff(d, "percent", p.Percent, *r.Percent)
		p.Percent = *r.Percent
	}
	if len(ticked) > 0 {
		d["milestones_done"] = ticked
	}
	if len(r.Evidence) > 0 {
		d["attachments"] = evidenceDetails(r.Evidence)
	}
	p.UpdatedAt = now
	return p.change(ActionProgress, from, d), nil
}

// Submit reports the fix (整改情况) for verification, without evidence and
// under no evidence policy.
func (p *Problem) Submit(note string, actor Actor, now time.Time) (Change, error) {
	return p.SubmitFix(note, nil, EvidencePolicy{}, actor, now)
}

// SubmitFix reports the fix (整改情况) for verification with its evidence.
// Under the policy, problems of some severities need at least one attachment.
func (p *Problem) SubmitFix(note string, evidence []Evidence, policy EvidencePolicy, actor Actor, now time.Time) (Change, error) {
	from := p.Status
	to, err := p.permit(ActionSubmit, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("note", note, true, MaxNote)
	v.Check(len(evidence) <= MaxAttachmentsPerAction, "attachment_ids", "at most %d attachments per submit", MaxAttachmentsPerAction)
	v.Check(len(evidence) > 0 || !policy.Requires(p.Severity), "attachment_ids",
		"a %s problem is submitted with at least one attachment as evidence of the fix (整改佐证材料); upload it first", p.Severity)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	d := noteDetails(note)
	if len(evidence) > 0 {
		d["attachments"] = evidenceDetails(evidence)
	}
	p.Status, p.UpdatedAt, p.SubmittedAt, p.SubmittedBy = to, now, &now, actor.UserID
	return p.change(ActionSubmit, from, d), nil
}

// Verify passes (销号) or sends back (退回) a submitted fix.
func (p *Problem) Verify(passed bool, note string, actor Actor, now time.Time, today Date) (Change, error) {
	from := p.Status
	a := ActionVerifyFail
	if passed {
		a = ActionVerifyPass
	}
	to, err := p.permit(a, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("note", note, !passed, MaxNote)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	d := noteDetails(note)
	if passed {
		onTime := !today.After(p.Deadline)
		p.ClosedAt, p.ClosedOnTime = &now, &onTime
		d["on_time"] = onTime
	} else {
		p.ReworkCount++
		d["rework_count"] = p.ReworkCount
	}
	p.Status, p.UpdatedAt = to, now
	return p.change(a, from, d), nil
}

// Dismiss decides that the problem is not taken up (不予立项).
func (p *Problem) Dismiss(reason string, actor Actor, now time.Time) (Change, error) {
	from := p.Status
	to, err := p.permit(ActionDismiss, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("reason", reason, true, MaxReason)
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	p.Status, p.UpdatedAt = to, now
	return p.change(ActionDismiss, from, map[string]any{"reason": reason}), nil
}

// Reopen sends a closed problem back to rectification (回头看) with a new deadline.
func (p *Problem) Reopen(reason string, deadline Date, actor Actor, now time.Time, today Date) (Change, error) {
	from := p.Status
	to, err := p.permit(ActionReopen, actor)
	if err != nil {
		return Change{}, err
	}
	var v Validator
	v.Text("reason", reason, true, MaxReason)
	v.Check(!deadline.IsZero(), "deadline", "is required")
	v.Check(deadline.IsZero() || !deadline.Before(today), "deadline", "lies in the past")
	if err := v.Err(); err != nil {
		return Change{}, err
	}
	d := map[string]any{"reason": reason}
	diff(d, "deadline", p.Deadline.String(), deadline.String())
	p.ReopenCount++
	d["reopen_count"] = p.ReopenCount
	p.Status, p.Deadline, p.UpdatedAt = to, deadline, now
	p.ClosedAt, p.ClosedOnTime, p.SubmittedBy, p.SubmittedAt = nil, nil, 0, nil
	return p.change(ActionReopen, from, d), nil
}
