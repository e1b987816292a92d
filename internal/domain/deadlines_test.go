package domain_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/rectify-team/rectify/internal/domain"
)

// Issue 3: milestones and the warning level, evidence on submit, the extension policy.

func withPlan(p *domain.Problem, ms ...domain.Milestone) *domain.Problem {
	p.Milestones = ms
	return p
}

func TestWarningWithMilestones(t *testing.T) {
	const yellow = 3
	deadline := today.AddDays(20) // problemIn's deadline
	tests := []struct {
		name  string
		p     *domain.Problem
		today domain.Date
		want  domain.WarningLevel
	}{
		{"no plan, far from the deadline", problemIn(domain.StatusRectifying), today, domain.WarningGreen},
		{"milestone ahead", withPlan(problemIn(domain.StatusRectifying), domain.Milestone{ID: 1, Due: today.AddDays(5), Title: "制定方案"}),
			today, domain.WarningGreen},
		{"milestone due today is not yet passed", withPlan(problemIn(domain.StatusRectifying), domain.Milestone{ID: 1, Due: today, Title: "制定方案"}),
			today, domain.WarningGreen},
		{"milestone passed, not done: behind the plan", withPlan(problemIn(domain.StatusRectifying),
			domain.Milestone{ID: 1, Due: today.AddDays(-1), Title: "制定方案"}), today, domain.WarningYellow},
		{"milestone passed and done", withPlan(problemIn(domain.StatusRectifying),
			domain.Milestone{ID: 1, Due: today.AddDays(-1), Title: "制定方案", Done: true, DoneAt: &now}), today, domain.WarningGreen},
		{"behind while assigned", withPlan(problemIn(domain.StatusAssigned),
			domain.Milestone{ID: 1, Due: today.AddDays(-2), Title: "签收"}), today, domain.WarningYellow},
		{"behind while submitted", withPlan(problemIn(domain.StatusSubmitted),
			domain.Milestone{ID: 1, Due: today.AddDays(-2), Title: "验收材料"}), today, domain.WarningYellow},
		{"within the yellow days", problemIn(domain.StatusRectifying), deadline.AddDays(-yellow), domain.WarningYellow},
		{"overdue beats behind", withPlan(problemIn(domain.StatusRectifying),
			domain.Milestone{ID: 1, Due: today, Title: "制定方案"}), deadline.AddDays(1), domain.WarningRed},
		{"closed on time stays green", withPlan(problemIn(domain.StatusClosed),
			domain.Milestone{ID: 1, Due: today.AddDays(-5), Title: "漏勾"}), today, domain.WarningGreen},
		{"registered has none", problemIn(domain.StatusRegistered), today, domain.WarningNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Warning(tt.today, yellow); got != tt.want {
				t.Errorf("Warning(%s) = %q, want %q", tt.today, got, tt.want)
			}
		})
	}
}

func TestAssignWithMilestones(t *testing.T) {
	policy := domain.DefaultDeadlinePolicy()
	deadline := today.AddDays(30)
	assign := func(p *domain.Problem, plan []domain.MilestonePlan) (domain.Change, error) {
		return p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), Deadline: deadline, Measures: "措施",
			Milestones: plan}, verifier, now, today, policy)
	}
	t.Run("plan stored by due date and audited", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered)
		plan := []domain.MilestonePlan{{Due: today.AddDays(20), Title: "完成整改"}, {Due: today, Title: "制定方案"},
			{Due: deadline, Title: "验收"}}
		ch, err := assign(p, plan)
		mustNil(t, err)
		var titles []string
		for _, m := range p.Milestones {
			titles = append(titles, m.Title)
			if m.ID != 0 || m.Done {
				t.Errorf("a new milestone is stored unsaved and open: %+v", m)
			}
		}
		if !slices.Equal(titles, []string{"制定方案", "完成整改", "验收"}) {
			t.Errorf("milestones = %v, want them by due date", titles)
		}
		got, ok := ch.Details["milestones"].([]map[string]any)
		if !ok || len(got) != 3 || got[0]["title"] != "完成整改" || got[0]["due"] != today.AddDays(20).String() {
			t.Errorf("audit details = %#v", ch.Details["milestones"])
		}
	})
	t.Run("nil keeps the plan, empty clears the open ones, done ones stay", func(t *testing.T) {
		p := withPlan(problemIn(domain.StatusRectifying),
			domain.Milestone{ID: 1, Due: today.AddDays(-3), Title: "已完成", Done: true, DoneAt: &now, DoneBy: ownerID},
			domain.Milestone{ID: 2, Due: today.AddDays(3), Title: "未完成"})
		_, err := assign(p, nil)
		mustNil(t, err)
		if len(p.Milestones) != 2 {
			t.Fatalf("nil plan changed the milestones: %+v", p.Milestones)
		}
		_, err = assign(p, []domain.MilestonePlan{})
		mustNil(t, err)
		if len(p.Milestones) != 1 || p.Milestones[0].ID != 1 {
			t.Fatalf("empty plan: %+v, want only the done milestone", p.Milestones)
		}
	})
	refusals := []struct {
		name   string
		plan   []domain.MilestonePlan
		fields []string
	}{
		{"due after the deadline", []domain.MilestonePlan{{Due: deadline.AddDays(1), Title: "晚了"}}, []string{"milestones[0].due"}},
		{"due in the past", []domain.MilestonePlan{{Due: today, Title: "今天"}, {Due: today.AddDays(-1), Title: "昨天"}},
			[]string{"milestones[1].due"}},
		{"due missing", []domain.MilestonePlan{{Title: "无期"}}, []string{"milestones[0].due"}},
		{"title missing", []domain.MilestonePlan{{Due: today, Title: "  "}}, []string{"milestones[0].title"}},
		{"title too long", []domain.MilestonePlan{{Due: today, Title: strings.Repeat("长", domain.MaxMilestoneTitle+1)}},
			[]string{"milestones[0].title"}},
		{"too many", slices.Repeat([]domain.MilestonePlan{{Due: today, Title: "步"}}, domain.MaxMilestones+1), []string{"milestones"}},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			p := problemIn(domain.StatusRegistered)
			before := clone(p)
			_, err := assign(p, tt.plan)
			wantInvalid(t, err, tt.fields...)
			if clone(p) != before {
				t.Errorf("a refused assignment changed the problem")
			}
		})
	}
	t.Run("milestones checked against the default deadline", func(t *testing.T) {
		p := problemIn(domain.StatusRegistered) // general: 30 days by default
		_, err := p.Assign(domain.AssignCmd{Assignee: ownerAssignee(ownerID), Measures: "措施",
			Milestones: []domain.MilestonePlan{{Due: today.AddDays(31), Title: "晚"}}}, verifier, now, today, policy)
		wantInvalid(t, err, "milestones[0].due")
	})
}

func TestReportTicksMilestones(t *testing.T) {
	plan := func() *domain.Problem {
		return withPlan(problemIn(domain.StatusRectifying),
			domain.Milestone{ID: 11, Due: today.AddDays(-1), Title: "制定方案"},
			domain.Milestone{ID: 12, Due: today.AddDays(5), Title: "完成整改"},
			domain.Milestone{ID: 13, Due: today.AddDays(-4), Title: "动员", Done: true, DoneAt: &now, DoneBy: ownerID})
	}
	t.Run("ticks and audits", func(t *testing.T) {
		p := plan()
		if p.Warning(today, 3) != domain.WarningYellow {
			t.Fatalf("behind the plan before the report")
		}
		ev := []domain.Evidence{{ID: 5, Name: "方案.pdf", SHA256: strings.Repeat("a", 64), Size: 10}}
		ch, err := p.Report(domain.ProgressReport{Note: "方案已定", Percent: ptr(30), MilestoneIDs: []int64{11, 13}, Evidence: ev}, owner, now)
		mustNil(t, err)
		if !p.Milestones[0].Done || p.Milestones[0].DoneAt == nil || p.Milestones[0].DoneBy != ownerID || p.Milestones[1].Done {
			t.Errorf("milestones after the report: %+v", p.Milestones)
		}
		if p.Warning(today, 3) != domain.WarningGreen {
			t.Errorf("still behind after ticking the passed milestone")
		}
		done, _ := ch.Details["milestones_done"].([]map[string]any)
		if len(done) != 1 || done[0]["id"] != int64(11) {
			t.Errorf("milestones_done = %#v (an already done milestone is not ticked again)", ch.Details["milestones_done"])
		}
		att, _ := ch.Details["attachments"].([]map[string]any)
		if len(att) != 1 || att[0]["sha256"] != strings.Repeat("a", 64) {
			t.Errorf("attachments = %#v", ch.Details["attachments"])
		}
	})
	t.Run("unknown milestone refused without change", func(t *testing.T) {
		p := plan()
		before := clone(p)
		_, err := p.Report(domain.ProgressReport{Note: "进展", MilestoneIDs: []int64{11, 99}}, owner, now)
		wantInvalid(t, err, "milestone_ids")
		if clone(p) != before || p.Milestones[0].Done {
			t.Errorf("a refused report changed the problem: %+v", p.Milestones)
		}
	})
}

func TestSubmitEvidencePolicy(t *testing.T) {
	policy := domain.DefaultEvidencePolicy()
	ev := []domain.Evidence{{ID: 3, Name: "整改照片.jpg", SHA256: strings.Repeat("b", 64), Size: 2048}}
	for _, sev := range domain.Severities() {
		t.Run(string(sev), func(t *testing.T) {
			p := problemIn(domain.StatusRectifying)
			p.Severity = sev
			before := clone(p)
			_, err := p.SubmitFix("已整改", nil, policy, owner, now)
			if sev == domain.SeverityGeneral {
				mustNil(t, err)
				return
			}
			wantInvalid(t, err, "attachment_ids")
			if !strings.Contains(err.Error(), "at least one attachment") {
				t.Errorf("message %q does not say what is missing", err)
			}
			if clone(p) != before {
				t.Fatalf("a refused submit changed the problem")
			}
			ch, err := p.SubmitFix("已整改", ev, policy, owner, now)
			mustNil(t, err)
			att, _ := ch.Details["attachments"].([]map[string]any)
			if p.Status != domain.StatusSubmitted || len(att) != 1 || att[0]["sha256"] != ev[0].SHA256 || att[0]["name"] != ev[0].Name {
				t.Errorf("status %s, attachments %#v", p.Status, ch.Details["attachments"])
			}
		})
	}
	t.Run("no policy", func(t *testing.T) {
		p := problemIn(domain.StatusRectifying)
		p.Severity = domain.SeverityCritical
		_, err := p.SubmitFix("已整改", nil, domain.EvidencePolicy{}, owner, now)
		mustNil(t, err)
	})
}

func TestParseSeverities(t *testing.T) {
	got, err := domain.ParseSeverities(" serious, critical ,serious")
	mustNil(t, err)
	if !slices.Equal(got, []domain.Severity{domain.SeveritySerious, domain.SeverityCritical}) {
		t.Errorf("got %v", got)
	}
	for _, s := range []string{"", "none"} {
		if got, err := domain.ParseSeverities(s); err != nil || got != nil {
			t.Errorf("%q: %v %v", s, got, err)
		}
	}
	if _, err := domain.ParseSeverities("serious,grave"); err == nil {
		t.Errorf("an unknown severity was accepted")
	}
}

func TestEvidenceTypes(t *testing.T) {
	for _, ct := range []string{"image/png", "image/jpeg", "application/pdf", "text/plain; charset=utf-8", "application/msword",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/vnd.ms-excel"} {
		if !domain.EvidenceTypeAllowed(ct) {
			t.Errorf("%s refused", ct)
		}
	}
	for _, ct := range []string{"application/x-elf", "application/vnd.microsoft.portable-executable", "text/html; charset=utf-8",
		"image/svg+xml", "text/x-shellscript", "application/zip", "application/x-ms-installer", "application/octet-stream", ""} {
		if domain.EvidenceTypeAllowed(ct) {
			t.Errorf("%s allowed", ct)
		}
	}
	if !domain.InlineType("image/png") || domain.InlineType("application/pdf") || domain.InlineType("image/svg+xml") {
		t.Errorf("only raster images are shown inline")
	}
}

func TestExtensionPolicy(t *testing.T) {
	policy := domain.DefaultExtensionPolicy()
	later := today.AddDays(40)
	t.Run("at most K approved extensions", func(t *testing.T) {
		p := problemIn(domain.StatusRectifying)
		p.ExtensionCount = policy.Max
		_, _, err := p.RequestExtension(later, "再延", false, owner, now, today, policy)
		wantConflict(t, err)
		if !strings.Contains(err.Error(), "at most 2") {
			t.Errorf("message %q does not name the limit", err)
		}
		p.ExtensionCount = policy.Max - 1
		_, _, err = p.RequestExtension(later, "再延", false, owner, now, today, policy)
		mustNil(t, err)
		_, _, err = p.RequestExtension(later, "再延", false, owner, now, today, domain.ExtensionPolicy{Max: 0})
		wantConflict(t, err)
	})
	t.Run("on or before the deadline", func(t *testing.T) {
		p := problemIn(domain.StatusRectifying)
		_, _, err := p.RequestExtension(later, "到期当天申请", false, owner, now, p.Deadline, policy)
		mustNil(t, err)
		before := clone(p)
		_, _, err = p.RequestExtension(later, "逾期申请", false, owner, now, p.Deadline.AddDays(1), policy)
		wantConflict(t, err)
		if !strings.Contains(err.Error(), "has passed") || clone(p) != before {
			t.Errorf("late request: %v", err)
		}
	})
	t.Run("the second extension is decided by a leader", func(t *testing.T) {
		pending := func(p *domain.Problem) *domain.Extension {
			return &domain.Extension{ID: 4, ProblemID: p.ID, RequestedBy: ownerID, OldDeadline: p.Deadline,
				Deadline: p.Deadline.AddDays(7), Reason: "再延", Status: domain.ExtensionPending}
		}
		first := problemIn(domain.StatusRectifying)
		_, err := first.DecideExtension(pending(first), true, "", verifier, now, policy)
		mustNil(t, err)
		_, err = first.DecideExtension(pending(first), true, "", leader, now, policy)
		mustNil(t, err) // leaders may decide the first one too; this approval is the second
		if first.ExtensionCount != 2 {
			t.Fatalf("count %d", first.ExtensionCount)
		}

		second := problemIn(domain.StatusRectifying)
		second.ExtensionCount = 1
		e := pending(second)
		before := clone(second)
		_, err = second.DecideExtension(e, true, "", verifier, now, policy)
		wantForbidden(t, err, "leader_required")
		_, err = second.DecideExtension(e, false, "不同意", verifier, now, policy)
		wantForbidden(t, err, "leader_required")
		if clone(second) != before || e.Status != domain.ExtensionPending {
			t.Fatalf("a refused decision changed state")
		}
		if slices.Contains(second.AvailableActions(verifier), domain.ActionDecideExtension) {
			t.Errorf("a verifier is offered the decision on a second extension")
		}
		if !slices.Contains(second.AvailableActions(leader), domain.ActionDecideExtension) {
			t.Errorf("a leader is not offered the decision on a second extension")
		}
		_, err = second.DecideExtension(e, true, "同意", leader, now, policy)
		mustNil(t, err)

		full := problemIn(domain.StatusRectifying)
		full.ExtensionCount = policy.Max
		_, err = full.DecideExtension(pending(full), true, "", leader, now, policy)
		wantConflict(t, err)
		_, err = full.DecideExtension(pending(full), false, "已达上限", leader, now, policy)
		mustNil(t, err)
	})
}
