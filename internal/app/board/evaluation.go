package board

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"time"

	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// The streams of evaluations and contributions.
const (
	evaluationStreamPrefix   = "evaluation/"
	contributionStreamPrefix = "contributions/"
)

// snapshot is what a publication freezes: both levels, as computed then.
type snapshot struct {
	Month  string          `json:"month"`
	Person *app.Evaluation `json:"person"`
	Unit   *app.Evaluation `json:"unit"`
}

func (s *Service) weights() stats.Weights {
	if s.cfg.Evaluation == (stats.Weights{}) {
		return stats.DefaultWeights()
	}
	return s.cfg.Evaluation
}

// checkMonth refuses a month that has not begun.
func (s *Service) checkMonth(field string, m stats.Month) error {
	if stats.MonthOf(s.core.Today()).Before(m) {
		return domain.Invalid(field, "%s has not begun", m)
	}
	return nil
}

// publishedLevel is one level of a publication's frozen snapshot.
func publishedLevel(p *app.Publication, level app.EvaluationLevel) (*app.Evaluation, error) {
	var snap snapshot
	if err := json.Unmarshal([]byte(p.Snapshot), &snap); err != nil {
		return nil, fmt.Errorf("publication %s: %w", p.Month, err)
	}
	ev := snap.Person
	if level == app.LevelUnit {
		ev = snap.Unit
	}
	if ev == nil {
		return nil, fmt.Errorf("publication %s lacks the %s level", p.Month, level)
	}
	at := p.PublishedAt
	ev.Published, ev.PublishedAt, ev.PublishedBy = true, &at, p.PublishedBy
	return ev, nil
}

// Evaluation returns a month's evaluation at one level: the frozen snapshot
// when the month is published, else computed from the data now. Verifiers
// and leaders read any month; everyone else only published months.
func (s *Service) Evaluation(ctx context.Context, c app.Caller, month stats.Month, level app.EvaluationLevel) (*app.Evaluation, error) {
	if err := s.checkMonth("month", month); err != nil {
		return nil, err
	}
	r := s.store.Read()
	pub, err := r.Publications.Get(ctx, month.String())
	switch {
	case err == nil:
		return publishedLevel(pub, level)
	case !errors.Is(err, domain.ErrNotFound):
		return nil, err
	}
	if err := app.RequireRole(c.Actor, "an unpublished evaluation", domain.RoleVerifier, domain.RoleLeader); err != nil {
		return nil, err
	}
	person, unit, err := s.evaluate(ctx, r, s.core.Timestamp(), month, true)
	if err != nil {
		return nil, err
	}
	if level == app.LevelUnit {
		return unit, nil
	}
	return person, nil
}

// evaluate computes both levels of a month from the data now. withPrevious
// also compares with the previous month for the 进步之星 (its published
// snapshot when there is one).
func (s *Service) evaluate(ctx context.Context, r app.Repos, now time.Time, month stats.Month, withPrevious bool) (*app.Evaluation, *app.Evaluation, error) {
	w := s.weights()
	persons, units, err := s.monthFacts(ctx, r, month)
	if err != nil {
		return nil, nil, err
	}
	build := func(level app.EvaluationLevel, facts []stats.Facts) *app.Evaluation {
		results := stats.Evaluate(facts, w)
		ev := &app.Evaluation{Month: month.String(), Level: level, Items: items(results), Weights: w, Formula: w.Formula(),
			ComputedAt: now, ModelWorkers: items(stats.ModelWorkers(results)), MostImproved: []app.Improvement{}}
		return ev
	}
	person, unit := build(app.LevelPerson, persons), build(app.LevelUnit, units)
	if !withPrevious {
		return person, unit, nil
	}
	prevPerson, prevUnit, err := s.previous(ctx, r, month.Prev())
	if err != nil {
		return nil, nil, err
	}
	person.MostImproved = improvements(person.Items, prevPerson)
	unit.MostImproved = improvements(unit.Items, prevUnit)
	return person, unit, nil
}

// previous returns the items of the month before: frozen if published, else computed now.
func (s *Service) previous(ctx context.Context, r app.Repos, month stats.Month) ([]app.EvaluationItem, []app.EvaluationItem, error) {
	pub, err := r.Publications.Get(ctx, month.String())
	switch {
	case err == nil:
		person, err := publishedLevel(pub, app.LevelPerson)
		if err != nil {
			return nil, nil, err
		}
		unit, err := publishedLevel(pub, app.LevelUnit)
		if err != nil {
			return nil, nil, err
		}
		return person.Items, unit.Items, nil
	case !errors.Is(err, domain.ErrNotFound):
		return nil, nil, err
	}
	person, unit, err := s.evaluate(ctx, r, s.core.Timestamp(), month, false)
	if err != nil {
		return nil, nil, err
	}
	return person.Items, unit.Items, nil
}

func items(results []stats.Result) []app.EvaluationItem {
	out := make([]app.EvaluationItem, len(results))
	for i, r := range results {
		out[i] = app.EvaluationItem{ID: r.ID, Name: r.Name, UnitID: r.UnitID, Closed: r.Closed(), Workload: r.Workload,
			FirstPass: r.FirstPass, Accuracy: r.Accuracy, OnTime: r.OnTime, Accepts: r.Accepts,
			PromptAccepts: r.PromptAccepts, Timeliness: r.Timeliness, Contribution: r.Contribution,
			Score: r.Score, Rank: r.Rank}
	}
	return out
}

func improvements(current, previous []app.EvaluationItem) []app.Improvement {
	toResults := func(xs []app.EvaluationItem) []stats.Result {
		out := make([]stats.Result, len(xs))
		for i, x := range xs {
			out[i] = stats.Result{Facts: stats.Facts{ID: x.ID, Name: x.Name}, Score: x.Score, Rank: x.Rank}
		}
		return out
	}
	byID := map[int64]app.EvaluationItem{}
	for _, x := range current {
		byID[x.ID] = x
	}
	out := []app.Improvement{}
	for _, imp := range stats.MostImproved(toResults(current), toResults(previous)) {
		out = append(out, app.Improvement{EvaluationItem: byID[imp.ID], PreviousScore: imp.PreviousScore, Rise: imp.Rise})
	}
	return out
}

// monthFacts gathers what each person and each unit did in the month.
// A closure counts for the problem's assignee and its responsible unit; an
// acceptance for the problem's assignee and unit now; a contribution for the
// person awarded and the unit credited when it was awarded (so a person who
// moves keeps their earlier points with their earlier unit).
func (s *Service) monthFacts(ctx context.Context, r app.Repos, month stats.Month) ([]stats.Facts, []stats.Facts, error) {
	loc := s.cfg.Location
	from, to := month.Start(loc), month.End(loc)
	acceptances, err := r.Stats.Acceptances(ctx, from, to)
	if err != nil {
		return nil, nil, err
	}
	byUser, byUnit, err := r.Contributions.Sums(ctx, month.String())
	if err != nil {
		return nil, nil, err
	}
	owners, err := r.Stats.Owners(ctx)
	if err != nil {
		return nil, nil, err
	}
	units, err := r.Units.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	idx, unlock, err := s.index(ctx)
	if err != nil {
		return nil, nil, err
	}
	closed := idx.closedBetween(from, to)
	accepts, rest := idx.judgeAcceptances(acceptances)
	unlock()
	if len(rest) > 0 { // reassigned since: the trail says which assignment they answered
		more, err := s.judgeAcceptances(ctx, r, rest)
		if err != nil {
			return nil, nil, err
		}
		accepts = append(accepts, more...)
	}
	persons, teams := map[int64]*stats.Facts{}, map[int64]*stats.Facts{}
	get := func(m map[int64]*stats.Facts, id int64) *stats.Facts {
		if m[id] == nil {
			m[id] = &stats.Facts{ID: id}
		}
		return m[id]
	}
	for _, f := range closed {
		onTime := f.submitted != 0 && f.deadline != 0 && dayNumber(dateOfSeconds(f.submitted, loc)) <= f.deadline
		for _, x := range []*stats.Facts{get(teams, f.unit), personFacts(get, persons, f.assignee)} {
			if x == nil {
				continue
			}
			switch f.severity {
			case domain.SeverityCritical:
				x.ClosedCritical++
			case domain.SeveritySerious:
				x.ClosedSerious++
			default:
				x.ClosedGeneral++
			}
			if f.reworks == 0 {
				x.FirstPass++
			}
			if onTime {
				x.OnTime++
			}
		}
	}
	for _, a := range accepts {
		if a.assignedAt.IsZero() {
			continue // an acceptance without an assignment before it cannot be judged
		}
		late, _ := stats.AcceptedLate(domain.DateOf(a.assignedAt, loc), domain.DateOf(a.At, loc))
		for _, x := range []*stats.Facts{get(teams, a.unit), personFacts(get, persons, a.assignee)} {
			if x == nil {
				continue
			}
			x.Accepts++
			if !late {
				x.PromptAccepts++
			}
		}
	}
	for id, pts := range byUser {
		get(persons, id).Contribution = float64(pts)
	}
	for id, pts := range byUnit {
		get(teams, id).Contribution = float64(pts)
	}
	// Everyone who may be assigned work is evaluated, even in a month without any.
	for _, o := range owners {
		if !o.Disabled {
			get(persons, o.ID)
			get(teams, o.UnitID)
		}
	}
	people := map[int64]app.PersonRef{}
	for _, o := range owners {
		people[o.ID] = o
	}
	var missing []int64
	for id := range persons {
		if _, ok := people[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		more, err := r.Stats.People(ctx, missing)
		if err != nil {
			return nil, nil, err
		}
		for id, p := range more {
			people[id] = p
		}
	}
	unitNames := map[int64]string{}
	for _, u := range units {
		unitNames[u.ID] = u.Name
	}
	out := func(m map[int64]*stats.Facts, name func(f *stats.Facts)) []stats.Facts {
		list := make([]stats.Facts, 0, len(m))
		for _, f := range m {
			name(f)
			list = append(list, *f)
		}
		slices.SortFunc(list, func(a, b stats.Facts) int { return cmp.Compare(a.ID, b.ID) })
		return list
	}
	personList := out(persons, func(f *stats.Facts) {
		p := people[f.ID]
		f.Name, f.UnitID = p.Name, p.UnitID
		if f.Name == "" {
			f.Name = fmt.Sprintf("#%d", f.ID)
		}
	})
	unitList := out(teams, func(f *stats.Facts) {
		f.Name = unitNames[f.ID]
		if f.Name == "" {
			f.Name = fmt.Sprintf("#%d", f.ID)
		}
	})
	return personList, unitList, nil
}

// personFacts is the facts of an assignee, or nil for a problem without one.
func personFacts(get func(map[int64]*stats.Facts, int64) *stats.Facts, m map[int64]*stats.Facts, id int64) *stats.Facts {
	if id == 0 {
		return nil
	}
	return get(m, id)
}

// PublishEvaluation freezes a finished month (leaders only): both levels are
// computed now and stored as a snapshot that later data does not change. The
// audit entry records the snapshot's SHA-256, so the frozen figures are as
// tamper-evident as the trail.
func (s *Service) PublishEvaluation(ctx context.Context, c app.Caller, month stats.Month) (*app.Publication, error) {
	rec := app.Record{Stream: evaluationStreamPrefix + month.String(), Action: app.ActionEvaluationPublish,
		ObjectType: app.ObjectEvaluation, ObjectID: month.String()}
	var out *app.Publication
	err := func() error {
		if err := app.RequireRole(c.Actor, "publishing an evaluation", domain.RoleLeader); err != nil {
			return err
		}
		if err := s.checkMonth("month", month); err != nil {
			return err
		}
		return s.core.Tx(ctx, func(ctx context.Context, r app.Repos, now time.Time) error {
			if err := s.core.ClaimKey(ctx, r, c, now); err != nil {
				return err
			}
			if now.Before(month.End(s.cfg.Location)) {
				return domain.Conflict("%s is not over yet; it can be published from %s", month, month.Next().First())
			}
			if _, err := r.Publications.Get(ctx, month.String()); err == nil {
				return domain.Conflict("the evaluation of %s is already published", month)
			} else if !errors.Is(err, domain.ErrNotFound) {
				return err
			}
			person, unit, err := s.evaluate(ctx, r, now, month, true)
			if err != nil {
				return err
			}
			body, err := json.Marshal(snapshot{Month: month.String(), Person: person, Unit: unit})
			if err != nil {
				return err
			}
			sum := sha256.Sum256(body)
			p := &app.Publication{Month: month.String(), PublishedBy: c.Actor.UserID, PublishedAt: now, Snapshot: string(body)}
			if err := r.Publications.Create(ctx, p); err != nil {
				return err
			}
			rec := rec
			rec.Changes = map[string]any{"month": month.String(), "persons": len(person.Items), "units": len(unit.Items),
				"model_workers": itemIDs(person.ModelWorkers), "most_improved": improvementIDs(person.MostImproved),
				"unit_model_workers": itemIDs(unit.ModelWorkers), "snapshot_sha256": hex.EncodeToString(sum[:]),
				"weights": person.Weights}
			out = p
			if err := r.Audit.Append(ctx, s.core.Entry(c, now, rec)); err != nil {
				return err
			}
			return s.core.KeepResult(ctx, r, c, p)
		})
	}()
	if err = s.core.KeyTaken(ctx, c, err); err != nil {
		if app.Refusable(err) && !errors.Is(err, app.ErrReplayed) {
			s.core.AuditRefusal(ctx, c, app.Record{Stream: audit.SystemStream, Action: rec.Action, ObjectType: rec.ObjectType,
				ObjectID: rec.ObjectID}, err)
		}
		return nil, err
	}
	return out, nil
}

func itemIDs(xs []app.EvaluationItem) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

func improvementIDs(xs []app.Improvement) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = x.ID
	}
	return out
}

// judgedAcceptance is an acceptance with the assignment it answered and the
// problem's assignee and unit now.
type judgedAcceptance struct {
	app.Acceptance
	assignSeq  int64
	assignedAt time.Time
	assignee   int64
	unit       int64
}

// judgeAcceptances finds, for each acceptance, the latest assignment before
// it in the problem's audit stream.
func (s *Service) judgeAcceptances(ctx context.Context, r app.Repos, as []app.Acceptance) ([]judgedAcceptance, error) {
	ids := make([]int64, 0, len(as))
	seen := map[int64]bool{}
	for _, a := range as {
		if !seen[a.ProblemID] {
			seen[a.ProblemID] = true
			ids = append(ids, a.ProblemID)
		}
	}
	refs, err := r.Stats.Problems(ctx, ids)
	if err != nil {
		return nil, err
	}
	assigns, err := r.Stats.ProblemEntries(ctx, ids, []string{string(domain.ActionAssign)})
	if err != nil {
		return nil, err
	}
	byProblem := map[string][]*audit.Entry{} // oldest first
	for _, e := range assigns {
		byProblem[e.ObjectID] = append(byProblem[e.ObjectID], e)
	}
	out := make([]judgedAcceptance, len(as))
	for i, a := range as {
		ref := refs[a.ProblemID]
		j := judgedAcceptance{Acceptance: a, assignee: ref.AssigneeID, unit: ref.UnitID}
		for _, e := range byProblem[app.IDString(a.ProblemID)] {
			if e.Seq < a.Seq {
				j.assignSeq, j.assignedAt = e.Seq, e.At
			}
		}
		out[i] = j
	}
	return out, nil
}

// judgeAcceptances judges from the index the acceptances whose problem has
// not been assigned again since (its last assignment is the one they
// answered); it returns the others for judgeAcceptances on the trail.
func (b *boardIndex) judgeAcceptances(as []app.Acceptance) ([]judgedAcceptance, []app.Acceptance) {
	var out []judgedAcceptance
	var rest []app.Acceptance
	for _, a := range as {
		rec, ok := b.get(a.ProblemID)
		if !ok || rec.assigned == 0 || int64(rec.assigned) > a.At.Unix() {
			rest = append(rest, a)
			continue
		}
		out = append(out, judgedAcceptance{Acceptance: a, assignedAt: time.Unix(int64(rec.assigned), 0),
			assignee: rec.assignee, unit: int64(rec.unit)})
	}
	return out, rest
}
