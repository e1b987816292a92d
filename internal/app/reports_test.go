package app_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// entryActions returns the actions of the audit entries with the given seqs, in seq order.
func entryActions(t *testing.T, b *boardSet, seqs []int64) []string {
	t.Helper()
	es, err := b.e.DB.Read().Audit.EntriesByID(t.Context(), seqs)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(es, func(x, y *audit.Entry) int { return int(x.Seq - y.Seq) })
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action + "@" + e.ObjectID
	}
	return out
}

func report(t *testing.T, b *boardSet, in app.ReportInput) *app.Report {
	t.Helper()
	rep, err := b.svc.Board.Report(t.Context(), b.e.Caller("verifier"), in)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestDisciplineReportsByHand(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	// P8: assigned to owner2 on Thursday 3-12, never accepted: its limit 3-13 has passed by 3-18 (5 days).
	e.Clock.Set(shanghai(time.March, 12, 9))
	p8 := e.Register(t, "P8")
	if _, err := b.svc.Lifecycle.Edit(ctx, e.Caller("verifier"), p8.ID, 0, app.ProblemPatch{UnitID: &e.Units["二班"].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.Lifecycle.Assign(ctx, e.Caller("verifier"), p8.ID, 0, app.AssignInput{AssigneeID: e.Users["owner2"].ID, Measures: "措施"}); err != nil {
		t.Fatal(err)
	}
	// Refused attempts: owner1 tries to verify P1 (role) and to accept it again (state); owner2 to dismiss P4.
	e.Clock.Set(shanghai(time.March, 18, 9))
	if _, err := b.svc.Lifecycle.Verify(ctx, e.Caller("owner1"), b.p["P1"].ID, 0, true, ""); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("owner verifies: %v", err)
	}
	if _, err := b.svc.Lifecycle.Accept(ctx, e.Caller("owner1"), b.p["P1"].ID, 0, ""); err == nil {
		t.Fatal("accepting a closed problem succeeded")
	}
	if _, err := b.svc.Lifecycle.Dismiss(ctx, e.Caller("owner2"), b.p["P4"].ID, 0, "x"); err == nil {
		t.Fatal("an owner dismissed")
	}
	id := func(name string) string { return fmtInt(b.p[name].ID) }
	march := app.ReportInput{From: domain.NewDate(2026, 3, 1), To: domain.NewDate(2026, 3, 18)}

	in := march
	in.Kind = app.ReportLateAcceptance
	rep := report(t, b, in)
	if len(rep.Rows) != 2 {
		t.Fatalf("late acceptance rows %+v", rep.Rows)
	}
	for _, row := range rep.Rows {
		switch row.Name {
		case "owner1": // P2: assigned Monday 3-02, accepted Wednesday 3-04, a day after its limit
			if row.Count != 1 || row.Details["max_days_late"] != 1 || row.Details["pending"] != 0 ||
				!slices.Equal(entryActions(t, b, row.Seqs), []string{"assign@" + id("P2"), "accept@" + id("P2")}) {
				t.Errorf("owner1 row %+v", row)
			}
		case "owner2": // P8, pending
			if row.Count != 1 || row.Details["pending"] != 1 || row.Details["max_days_late"] != 5 ||
				!slices.Equal(entryActions(t, b, row.Seqs), []string{"assign@" + fmtInt(p8.ID)}) ||
				!slices.Equal(row.ProblemIDs, []int64{p8.ID}) {
				t.Errorf("owner2 row %+v", row)
			}
		default:
			t.Errorf("unexpected row %+v", row)
		}
	}

	in.Kind = app.ReportOverdue
	rep = report(t, b, in)
	got := map[string]app.ReportRow{}
	for _, row := range rep.Rows {
		got[row.Name] = row
	}
	// owner1: P2 closed late on 3-12 (shown by its closing entry); owner2: P4 open past 3-16 (shown by its assignment).
	if r := got["owner1"]; len(rep.Rows) != 2 || r.Count != 1 || r.Details["closed_late"] != 1 ||
		!slices.Equal(entryActions(t, b, r.Seqs), []string{"verify_pass@" + id("P2")}) {
		t.Errorf("overdue owner1 %+v (all %+v)", r, rep.Rows)
	}
	if r := got["owner2"]; r.Count != 1 || r.Details["overdue_now"] != 1 || r.Details["max_days_overdue"] != 2 ||
		!slices.Equal(entryActions(t, b, r.Seqs), []string{"assign@" + id("P4")}) {
		t.Errorf("overdue owner2 %+v", r)
	}
	in.By = app.ReportSubjectUnit
	rep = report(t, b, in)
	if len(rep.Rows) != 2 || rep.Rows[0].SubjectType != "unit" || rep.Rows[0].Count != 1 || rep.Rows[1].Count != 1 {
		t.Errorf("overdue by unit %+v", rep.Rows)
	}
	in.By, in.UnitID = "", e.Units["二班"].ID
	if rep = report(t, b, in); len(rep.Rows) != 1 || rep.Rows[0].Name != "owner2" {
		t.Errorf("overdue in 二班 %+v", rep.Rows)
	}

	in = march
	in.Kind = app.ReportSendBacks
	if rep = report(t, b, in); len(rep.Rows) != 0 {
		t.Errorf("one send-back is not repeated: %+v", rep.Rows)
	}
	in.MinCount = 1
	rep = report(t, b, in)
	if len(rep.Rows) != 1 || rep.Rows[0].SubjectID != b.p["P2"].ID || rep.Rows[0].SubjectType != "problem" ||
		!slices.Equal(entryActions(t, b, rep.Rows[0].Seqs), []string{"verify_fail@" + id("P2")}) ||
		!strings.Contains(rep.Rows[0].Name, b.p["P2"].Code) {
		t.Errorf("send-backs %+v", rep.Rows)
	}

	in = march
	in.Kind = app.ReportRefusals
	rep = report(t, b, in)
	if len(rep.Rows) != 2 || rep.Rows[0].Name != "owner1" || rep.Rows[0].Count != 2 || rep.Rows[1].Name != "owner2" ||
		rep.Rows[1].Count != 1 || rep.Rows[0].Details["verify_pass"] != 1 || rep.Rows[0].Details["accept"] != 1 {
		t.Errorf("refusals %+v", rep.Rows)
	}
	for _, seq := range rep.Rows[0].Seqs {
		es, _ := e.DB.Read().Audit.EntriesByID(ctx, []int64{seq})
		if len(es) != 1 || es[0].Outcome != audit.OutcomeRefused || es[0].ActorID != e.Users["owner1"].ID {
			t.Errorf("refusal seq %d is %+v", seq, es)
		}
	}

	in.Kind = app.ReportExtensions
	rep = report(t, b, in)
	if len(rep.Rows) != 1 || rep.Rows[0].Name != "二班" || rep.Rows[0].Details["requested"] != 1 ||
		rep.Rows[0].Details["approved"] != 1 ||
		!slices.Equal(entryActions(t, b, rep.Rows[0].Seqs), []string{"request_extension@" + id("P3"), "decide_extension@" + id("P3")}) {
		t.Errorf("extensions %+v", rep.Rows)
	}

	// Before March nothing happened; owners may not read reports; bad input.
	if rep = report(t, b, app.ReportInput{Kind: app.ReportRefusals, From: domain.NewDate(2026, 2, 1), To: domain.NewDate(2026, 2, 28)}); len(rep.Rows) != 0 {
		t.Errorf("February refusals %+v", rep.Rows)
	}
	if _, err := b.svc.Board.Report(ctx, e.Caller("owner1"), app.ReportInput{Kind: app.ReportRefusals}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("owner reads a report: %v", err)
	}
	var val *domain.ValidationError
	for _, bad := range []app.ReportInput{{Kind: "gossip"}, {Kind: app.ReportOverdue, By: "team"},
		{Kind: app.ReportOverdue, From: domain.NewDate(2026, 3, 10), To: domain.NewDate(2026, 3, 1)},
		{Kind: app.ReportOverdue, From: domain.NewDate(2024, 1, 1), To: domain.NewDate(2026, 3, 1)},
		{Kind: app.ReportOverdue, UnitID: 9999}} {
		if _, err := b.svc.Board.Report(ctx, e.Caller("leader"), bad); !errors.As(err, &val) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

func TestNoticeLifecycle(t *testing.T) {
	t.Parallel()
	b := buildBoardSet(t)
	e, ctx := b.e, t.Context()
	e.Clock.Set(shanghai(time.April, 2, 9))
	march := stats.Month{Year: 2026, Month: time.March}

	if _, err := b.svc.Board.DraftNotice(ctx, e.Caller("owner1"), app.NoticeInput{Kind: app.NoticePraise, Title: "t", Body: "b"}); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("an owner drafts: %v", err)
	}
	var val *domain.ValidationError
	if _, err := b.svc.Board.DraftNotice(ctx, e.Caller("verifier"), app.NoticeInput{Kind: "thanks", Title: "t", Body: "b"}); !errors.As(err, &val) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := b.svc.Board.DraftNotice(ctx, e.Caller("verifier"), app.NoticeInput{Kind: app.NoticePraise}); !errors.As(err, &val) {
		t.Errorf("no title or body: %v", err)
	}

	praise, err := b.svc.Board.DraftNotice(ctx, e.Caller("verifier"), app.NoticeInput{Kind: app.NoticePraise,
		Evaluation: &app.NoticeEvaluation{Month: march, Level: app.LevelPerson}})
	if err != nil {
		t.Fatal(err)
	}
	if praise.Status != app.NoticeDraft || praise.SourceType != "evaluation" || praise.SourceRef != "2026-03/person" ||
		!strings.Contains(praise.Title, "2026年3月") || !strings.Contains(praise.Body, "标兵：owner1，综合得分 73.00") ||
		!strings.Contains(praise.Body, "进步之星：owner1") {
		t.Errorf("praise draft %+v", praise)
	}
	criticism, err := b.svc.Board.DraftNotice(ctx, e.Caller("verifier"), app.NoticeInput{Kind: app.NoticeCriticism,
		Report: &app.ReportInput{Kind: app.ReportLateAcceptance, From: domain.NewDate(2026, 3, 1), To: domain.NewDate(2026, 3, 31)}})
	if err != nil {
		t.Fatal(err)
	}
	if criticism.SourceRef != "late_acceptance/2026-03-01/2026-03-31" || !strings.Contains(criticism.Body, "owner1：1 次（一班）") ||
		!strings.Contains(criticism.Title, "签收超时") {
		t.Errorf("criticism draft %+v", criticism)
	}

	// Drafts are for the working group and leaders.
	if _, err := b.svc.Board.Notice(ctx, e.Caller("owner1"), praise.ID); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("an owner reads a draft: %v", err)
	}
	if ns, err := b.svc.Board.Notices(ctx, e.Caller("owner1"), app.NoticeQuery{}); err != nil || len(ns) != 0 {
		t.Errorf("an owner lists drafts: %v %+v", err, ns)
	}

	title := "关于2026年3月作风建设标兵的表扬通报"
	edited, err := b.svc.Board.EditNotice(ctx, e.Caller("verifier"), praise.ID, praise.Version, app.NoticePatch{Title: &title})
	if err != nil || edited.Title != title || edited.Version != 2 {
		t.Fatalf("edit: %v %+v", err, edited)
	}
	if _, err := b.svc.Board.EditNotice(ctx, e.Caller("verifier"), praise.ID, 1, app.NoticePatch{Title: &title}); !errors.Is(err, domain.ErrPreconditionFailed) {
		t.Errorf("stale edit: %v", err)
	}
	if _, err := b.svc.Board.PublishNotice(ctx, e.Caller("verifier"), praise.ID, 0); !errors.Is(err, domain.ErrForbidden) {
		t.Errorf("a verifier publishes: %v", err)
	}
	pub, err := b.svc.Board.PublishNotice(ctx, e.Caller("leader"), praise.ID, 2)
	if err != nil || pub.Status != app.NoticePublished || pub.PublishedBy != e.Users["leader"].ID || pub.PublishedAt == nil {
		t.Fatalf("publish: %v %+v", err, pub)
	}
	// Published means immutable.
	body := "改过的正文"
	if _, err := b.svc.Board.EditNotice(ctx, e.Caller("verifier"), praise.ID, 0, app.NoticePatch{Body: &body}); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("editing a published notice: %v", err)
	}
	if _, err := b.svc.Board.PublishNotice(ctx, e.Caller("leader"), praise.ID, 0); !errors.Is(err, domain.ErrConflict) {
		t.Errorf("publishing twice: %v", err)
	}
	if n, err := b.svc.Board.Notice(ctx, e.Caller("owner1"), praise.ID); err != nil || n.Title != title || n.Body != praise.Body {
		t.Errorf("an owner reads the published notice: %v %+v", err, n)
	}
	ns, err := b.svc.Board.Notices(ctx, e.Caller("owner1"), app.NoticeQuery{})
	if err != nil || len(ns) != 1 || ns[0].ID != praise.ID {
		t.Errorf("an owner lists: %v %+v", err, ns)
	}
	all, err := b.svc.Board.Notices(ctx, e.Caller("leader"), app.NoticeQuery{})
	if err != nil || len(all) != 2 || all[0].ID != criticism.ID {
		t.Errorf("a leader lists: %v %+v", err, all)
	}
	var actions []string
	for _, en := range streamEntries(t, e, "notice/"+fmtInt(praise.ID)) {
		actions = append(actions, en.Action+":"+en.Outcome)
	}
	if strings.Join(actions, " ") != "notice_create:ok notice_update:ok notice_publish:ok" {
		t.Errorf("notice trail %v", actions)
	}
	mustVerifyOK(t, e)
}
