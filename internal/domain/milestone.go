package domain

import (
	"fmt"
	"slices"
	"time"
)

// Milestone limits.
const (
	MaxMilestones     = 20  // per assignment
	MaxMilestoneTitle = 200 // characters
)

// Milestone is one dated step of the rectification plan, planned backwards
// from the deadline (挂图作战、倒排工期). Progress reports tick them off.
type Milestone struct {
	ID     int64
	Due    Date
	Title  string
	Done   bool
	DoneAt *time.Time
	DoneBy int64
}

// MilestonePlan is a milestone as a verifier plans it on assignment.
type MilestonePlan struct {
	Due   Date
	Title string
}

// Passed reports whether the milestone's due date lies before today while it
// is not done: the problem is behind its plan (序时进度).
func (m Milestone) Passed(today Date) bool { return !m.Done && m.Due.Before(today) }

// BehindSchedule reports whether any milestone's due date has passed without
// it being done.
func (p *Problem) BehindSchedule(today Date) bool {
	return slices.ContainsFunc(p.Milestones, func(m Milestone) bool { return m.Passed(today) })
}

// validatePlan checks a plan against the deadline it leads up to.
func validatePlan(v *Validator, plan []MilestonePlan, today, deadline Date) {
	if len(plan) > MaxMilestones {
		v.Add("milestones", "has %d milestones; at most %d allowed", len(plan), MaxMilestones)
		return
	}
	for i, m := range plan {
		f := fmt.Sprintf("milestones[%d]", i)
		switch {
		case m.Due.IsZero():
			v.Add(f+".due", "is required")
		case m.Due.Before(today):
			v.Add(f+".due", "%s lies in the past", m.Due)
		case m.Due.After(deadline):
			v.Add(f+".due", "%s is after the deadline %s", m.Due, deadline)
		}
		v.Text(f+".title", m.Title, true, MaxMilestoneTitle)
	}
}

// replacePlan keeps the milestones already done (they are history) and
// replaces the open ones with plan, ordered by due date.
func (p *Problem) replacePlan(plan []MilestonePlan) {
	var out []Milestone
	for _, m := range p.Milestones {
		if m.Done {
			out = append(out, m)
		}
	}
	for _, m := range plan {
		out = append(out, Milestone{Due: m.Due, Title: m.Title})
	}
	slices.SortStableFunc(out, func(a, b Milestone) int { return a.Due.t.Compare(b.Due.t) })
	p.Milestones = out
}

func planDetails(plan []MilestonePlan) []map[string]any {
	out := make([]map[string]any, len(plan))
	for i, m := range plan {
		out[i] = map[string]any{"due": m.Due.String(), "title": m.Title}
	}
	return out
}

// tickMilestones marks the milestones with the given ids done. Ids that are
// not the problem's are field errors; milestones already done stay as they were.
func (p *Problem) tickMilestones(v *Validator, ids []int64, actor Actor, now time.Time) []map[string]any {
	var ticked []map[string]any
	for _, id := range ids {
		i := slices.IndexFunc(p.Milestones, func(m Milestone) bool { return m.ID == id })
		if i < 0 {
			v.Add("milestone_ids", "the problem has no milestone %d", id)
			continue
		}
		m := &p.Milestones[i]
		if m.Done {
			continue
		}
		at := now
		m.Done, m.DoneAt, m.DoneBy = true, &at, actor.UserID
		ticked = append(ticked, map[string]any{"id": m.ID, "due": m.Due.String(), "title": m.Title})
	}
	return ticked
}
