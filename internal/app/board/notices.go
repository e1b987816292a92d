package board

import (
	"context"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

func validateNotice(n *app.Notice) error {
	var v domain.Validator
	v.Check(n.Kind.Valid(), "kind", "must be praise or criticism")
	v.Text("title", n.Title, true, app.MaxNoticeTitle)
	v.Text("body", n.Body, true, app.MaxNoticeBody)
	return v.Err()
}

func noticeStream(id int64) string { return "notice/" + app.IDString(id) }

// noticeAction runs one change of a notice, audited on the notice's stream in
// the same transaction; a refusal is audited on its own.
func (s *Service) noticeAction(ctx context.Context, c app.Caller, action string, id int64, fn func(r app.Repos, now time.Time, rec *app.Record) error) error {
	rec := app.Record{Stream: audit.SystemStream, Action: action, ObjectType: app.ObjectNotice}
	if id > 0 {
		rec.ObjectID = app.IDString(id)
	}
	err := s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
		rec := rec
		if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
			return err
		}
		if err := fn(r, now, &rec); err != nil {
			return err
		}
		if err := r.Audit.Append(ctx, s.core.Entry(c, now, rec)); err != nil {
			return err
		}
		return s.core.KeepResult(ctx, r, c, rec.Result)
	})
	err = s.core.KeyTaken(ctx, c, err)
	if err != nil && app.Refusable(err) && !errors.Is(err, app.ErrReplayed) {
		s.core.AuditRefusal(ctx, c, app.Record{Stream: audit.SystemStream, Action: action, ObjectType: app.ObjectNotice,
			ObjectID: rec.ObjectID}, err)
	}
	return err
}

// DraftNotice drafts a notice (verifiers only).
func (s *Service) DraftNotice(ctx context.Context, c app.Caller, in app.NoticeInput) (*app.Notice, error) {
	var (
		out                                *app.Notice
		title, body, sourceType, sourceRef string
	)
	// What the draft is drawn from is read first, outside the transaction that writes it.
	source := func() error {
		if err := app.RequireRole(c.Actor, "drafting a notice", domain.RoleVerifier); err != nil {
			return err
		}
		if !in.Kind.Valid() {
			return domain.Invalid("kind", "must be praise or criticism")
		}
		switch {
		case in.Evaluation != nil && in.Report != nil:
			return domain.Invalid("evaluation", "draw a notice from an evaluation or from a report, not both")
		case in.Evaluation != nil:
			ev, err := s.Evaluation(ctx, c, in.Evaluation.Month, in.Evaluation.Level)
			if err != nil {
				return err
			}
			sourceType, sourceRef = app.NoticeFromEvaluation, in.Evaluation.Month.String()+"/"+string(in.Evaluation.Level)
			title, body = evaluationNotice(in.Kind, ev)
		case in.Report != nil:
			rep, err := s.Report(ctx, c, *in.Report)
			if err != nil {
				return err
			}
			sourceType, sourceRef = app.NoticeFromReport, fmt.Sprintf("%s/%s/%s", rep.Kind, rep.From, rep.To)
			title, body = reportNotice(in.Kind, rep, s.reportNames(ctx))
		}
		return nil
	}
	if err := source(); err != nil {
		if app.Refusable(err) {
			s.core.AuditRefusal(ctx, c, app.Record{Stream: audit.SystemStream, Action: app.ActionNoticeCreate, ObjectType: app.ObjectNotice}, err)
		}
		return nil, err
	}
	err := s.noticeAction(ctx, c, app.ActionNoticeCreate, 0, func(r app.Repos, now time.Time, rec *app.Record) error {
		n := &app.Notice{Kind: in.Kind, Title: strings.TrimSpace(in.Title), Body: strings.TrimSpace(in.Body),
			SourceType: sourceType, SourceRef: sourceRef, Status: app.NoticeDraft, Version: 1, CreatedBy: c.Actor.UserID,
			CreatedAt: now, UpdatedAt: now}
		if n.Title == "" {
			n.Title = title
		}
		if n.Body == "" {
			n.Body = body
		}
		if err := validateNotice(n); err != nil {
			return err
		}
		if err := r.Notices.Create(ctx, n); err != nil {
			return err
		}
		rec.Stream, rec.ObjectID = noticeStream(n.ID), app.IDString(n.ID)
		rec.Changes = map[string]any{"kind": n.Kind, "title": n.Title, "body": n.Body, "source_type": n.SourceType,
			"source_ref": n.SourceRef, "status": n.Status}
		out, rec.Result = n, n
		return nil
	})
	return out, err
}

// loadNotice reads a notice the caller may see: drafts are for verifiers and leaders.
func loadNotice(ctx context.Context, r app.Repos, c app.Caller, id int64) (*app.Notice, error) {
	n, err := r.Notices.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if n.Status != app.NoticePublished && !c.Actor.HasAny(domain.RoleVerifier, domain.RoleLeader) {
		return nil, fmt.Errorf("notice %d: %w", id, domain.ErrNotFound)
	}
	return n, nil
}

// EditNotice changes a draft (verifiers only); a published notice is immutable (409).
// ifMatch 0 means no precondition.
func (s *Service) EditNotice(ctx context.Context, c app.Caller, id, ifMatch int64, p app.NoticePatch) (*app.Notice, error) {
	var out *app.Notice
	err := s.noticeAction(ctx, c, app.ActionNoticeUpdate, id, func(r app.Repos, now time.Time, rec *app.Record) error {
		n, err := loadNotice(ctx, r, c, id)
		if err != nil {
			return err
		}
		rec.Stream = noticeStream(id)
		if err := app.RequireRole(c.Actor, "editing a notice", domain.RoleVerifier); err != nil {
			return err
		}
		if n.Status == app.NoticePublished {
			return domain.Conflict("notice %d is published and can no longer change", id)
		}
		if ifMatch != 0 && ifMatch != n.Version {
			return fmt.Errorf("notice %d is at version %d, not %d: %w", id, n.Version, ifMatch, domain.ErrPreconditionFailed)
		}
		d := map[string]any{}
		old := n.Version
		if p.Kind != nil {
			app.DiffInto(d, "kind", n.Kind, *p.Kind)
			n.Kind = *p.Kind
		}
		if p.Title != nil {
			app.DiffInto(d, "title", n.Title, strings.TrimSpace(*p.Title))
			n.Title = strings.TrimSpace(*p.Title)
		}
		if p.Body != nil {
			app.DiffInto(d, "body", n.Body, strings.TrimSpace(*p.Body))
			n.Body = strings.TrimSpace(*p.Body)
		}
		if err := validateNotice(n); err != nil {
			return err
		}
		n.Version, n.UpdatedAt = old+1, now
		if err := r.Notices.Update(ctx, n, old); err != nil {
			return err
		}
		rec.Changes, out, rec.Result = d, n, n
		return nil
	})
	return out, err
}

// PublishNotice publishes a draft (leaders only). From then on it is immutable.
func (s *Service) PublishNotice(ctx context.Context, c app.Caller, id, ifMatch int64) (*app.Notice, error) {
	var out *app.Notice
	err := s.noticeAction(ctx, c, app.ActionNoticePublish, id, func(r app.Repos, now time.Time, rec *app.Record) error {
		n, err := loadNotice(ctx, r, c, id)
		if err != nil {
			return err
		}
		rec.Stream = noticeStream(id)
		if err := app.RequireRole(c.Actor, "publishing a notice", domain.RoleLeader); err != nil {
			return err
		}
		if n.Status == app.NoticePublished {
			return domain.Conflict("notice %d is already published", id)
		}
		if ifMatch != 0 && ifMatch != n.Version {
			return fmt.Errorf("notice %d is at version %d, not %d: %w", id, n.Version, ifMatch, domain.ErrPreconditionFailed)
		}
		old := n.Version
		n.Status, n.Version, n.UpdatedAt, n.PublishedBy, n.PublishedAt = app.NoticePublished, old+1, now, c.Actor.UserID, &now
		if err := r.Notices.Update(ctx, n, old); err != nil {
			return err
		}
		rec.Changes = map[string]any{"status": map[string]any{"from": app.NoticeDraft, "to": app.NoticePublished},
			"title": n.Title, "kind": n.Kind}
		out, rec.Result = n, n
		return nil
	})
	return out, err
}

// Notice returns one notice the caller may see.
func (s *Service) Notice(ctx context.Context, c app.Caller, id int64) (*app.Notice, error) {
	return loadNotice(ctx, s.store.Read(), c, id)
}

// Notices lists notices, newest first: published ones for everyone, drafts
// too for verifiers and leaders.
func (s *Service) Notices(ctx context.Context, c app.Caller, q app.NoticeQuery) ([]*app.Notice, error) {
	if !c.Actor.HasAny(domain.RoleVerifier, domain.RoleLeader) {
		if len(q.Statuses) > 0 && (len(q.Statuses) != 1 || q.Statuses[0] != app.NoticePublished) {
			return []*app.Notice{}, nil
		}
		q.Statuses = []app.NoticeStatus{app.NoticePublished}
	}
	if q.Limit <= 0 {
		q.Limit = app.DefaultPageSize
	}
	return s.store.Read().Notices.List(ctx, q)
}

// evaluationNotice drafts the text of a notice on an evaluation: praise names
// the 标兵 and the 进步之星; criticism names those ranked last.
func evaluationNotice(kind app.NoticeKind, ev *app.Evaluation) (string, string) {
	who := "个人"
	if ev.Level == app.LevelUnit {
		who = "单位"
	}
	month, _ := stats.ParseMonth(ev.Month)
	period := fmt.Sprintf("%d年%d月", month.Year, int(month.Month))
	title := fmt.Sprintf("关于%s作风建设月度评价情况的%s通报（%s）", period, kind.Label(), who)
	var b strings.Builder
	fmt.Fprintf(&b, "经工作小组对%s各%s整改工作量、准确率、及时性和专项贡献的综合评价：\n", period, who)
	if kind == app.NoticePraise {
		if len(ev.ModelWorkers) == 0 && len(ev.MostImproved) == 0 {
			b.WriteString("本月无标兵和进步之星。\n")
		}
		for _, x := range ev.ModelWorkers {
			fmt.Fprintf(&b, "标兵：%s，综合得分 %s，本月销号 %d 件。\n", x.Name, score(x.Score), x.Closed)
		}
		for _, x := range ev.MostImproved {
			fmt.Fprintf(&b, "进步之星：%s，综合得分 %s，较上月提高 %s 分。\n", x.Name, score(x.Score), score(x.Rise))
		}
		b.WriteString("特予通报表扬。")
		return title, b.String()
	}
	last := 0
	for _, x := range ev.Items {
		last = max(last, x.Rank)
	}
	n := 0
	for _, x := range ev.Items {
		if x.Rank == last && len(ev.Items) > 1 && x.Rank > 1 {
			fmt.Fprintf(&b, "%s综合得分 %s，排名末位（第 %d 名）。\n", x.Name, score(x.Score), x.Rank)
			n++
		}
	}
	if n == 0 {
		b.WriteString("本月无排名末位者。\n")
	}
	b.WriteString("特予通报批评，请相关责任人限期改进。")
	return title, b.String()
}

func score(f float64) string { return fmt.Sprintf("%.2f", f) }

// reportNotice drafts the text of a notice on a discipline report, one line per row.
func reportNotice(kind app.NoticeKind, rep *app.Report, names reportNames) (string, string) {
	title := fmt.Sprintf("关于%s情况的%s通报（%s至%s）", rep.Kind.Label(), kind.Label(), rep.From, rep.To)
	var b strings.Builder
	fmt.Fprintf(&b, "%s至%s，经工作小组依据审计记录核查，%s情况如下：\n", rep.From, rep.To, rep.Kind.Label())
	if len(rep.Rows) == 0 {
		b.WriteString("无。\n")
	}
	for _, row := range rep.Rows {
		fmt.Fprintf(&b, "%s：%d 次", row.Name, row.Count)
		if row.UnitID > 0 && row.SubjectType != app.ReportSubjectUnit {
			if u := names.units[row.UnitID]; u != "" {
				fmt.Fprintf(&b, "（%s）", u)
			}
		}
		fmt.Fprintf(&b, "，审计记录 %s。\n", seqList(row.Seqs))
	}
	if kind == app.NoticePraise {
		b.WriteString("特予通报表扬。")
	} else {
		b.WriteString("特予通报批评，请相关责任人限期改进。")
	}
	return title, b.String()
}

func seqList(seqs []int64) string {
	parts := make([]string, len(seqs))
	for i, s := range seqs {
		parts[i] = "#" + app.IDString(s)
	}
	return strings.Join(parts, "、")
}

type reportNames struct{ units map[int64]string }

func (s *Service) reportNames(ctx context.Context) reportNames {
	out := reportNames{units: map[int64]string{}}
	units, err := s.store.Read().Units.List(ctx)
	if err != nil {
		return out
	}
	for _, u := range units {
		out.units[u.ID] = u.Name
	}
	return out
}
