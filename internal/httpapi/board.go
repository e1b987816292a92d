package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// routeBoard registers the board (作风看板), the evaluation, the discipline
// reports, contributions, notices (通报) and the ledger (整改台账).
func (a *api) routeBoard(r *gin.Engine, auth *gin.RouterGroup) {
	auth.GET("/stats/overview", a.handle(a.overview))
	auth.GET("/stats/trend", a.handle(a.trend))
	auth.GET("/stats/evaluation", a.handle(a.evaluation))
	auth.POST("/stats/evaluation/publish", a.handle(a.publishEvaluation))
	auth.GET("/stats/discipline", a.handle(a.discipline))
	auth.POST("/contributions", a.handle(a.awardContribution))
	auth.GET("/contributions", a.handle(a.listContributions))
	auth.GET("/notices", a.handle(a.listNotices))
	auth.POST("/notices", a.handle(a.draftNotice))
	auth.GET("/notices/:id", a.handle(a.getNotice))
	auth.PATCH("/notices/:id", a.handle(a.editNotice))
	auth.POST("/notices/:id/publish", a.handle(a.publishNotice))
	a.routeLedger(r, auth)
}

// boardParams are the board's filters.
var boardParams = []string{"unit_id", "category_id", "severity", "source", "from", "to"}

// parseBoardFilter reads the board's filters; from and to bound registration
// (a date, or an RFC 3339 time; to includes its day).
func (a *api) parseBoardFilter(c *gin.Context, extra ...string) (app.BoardInput, error) {
	var in app.BoardInput
	if err := allowQuery(c, append(boardParams, extra...)...); err != nil {
		return in, err
	}
	q := c.Request.URL.Query()
	for _, s := range multiValue(q["severity"]) {
		if !domain.Severity(s).Valid() {
			return in, invalidField("severity", "unknown severity "+strconv.Quote(s))
		}
		in.Severities = append(in.Severities, domain.Severity(s))
	}
	for _, s := range multiValue(q["source"]) {
		if !domain.Source(s).Valid() {
			return in, invalidField("source", "unknown source "+strconv.Quote(s))
		}
		in.Sources = append(in.Sources, domain.Source(s))
	}
	for name, dst := range map[string]*int64{"unit_id": &in.UnitID, "category_id": &in.CategoryID} {
		if v := q.Get(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return in, invalidField(name, "must be a positive integer id")
			}
			*dst = n
		}
	}
	return in, nil
}

func multiValue(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

type nodeCountJSON struct {
	UnitID      *int64   `json:"unit_id,omitempty"`
	CategoryID  *int64   `json:"category_id,omitempty"`
	Code        string   `json:"code,omitempty"`
	Name        string   `json:"name"`
	ParentID    *int64   `json:"parent_id"`
	Total       int64    `json:"total"`
	Closed      int64    `json:"closed"`
	Dismissed   int64    `json:"dismissed"`
	Overdue     int64    `json:"overdue"`
	ClosureRate *float64 `json:"closure_rate"`
}

type warningJSON struct {
	Green  int64 `json:"green"`
	Yellow int64 `json:"yellow"`
	Red    int64 `json:"red"`
}

type overviewJSON struct {
	AsOf            domain.Date      `json:"as_of"`
	Total           int64            `json:"total"`
	ByStatus        map[string]int64 `json:"by_status"`
	BySeverity      map[string]int64 `json:"by_severity"`
	BySource        map[string]int64 `json:"by_source"`
	ByCategory      []nodeCountJSON  `json:"by_category"`
	ByUnit          []nodeCountJSON  `json:"by_unit"`
	Overdue         int64            `json:"overdue"`
	Warning         warningJSON      `json:"warning"`
	Closed          int64            `json:"closed"`
	ClosedOnTime    int64            `json:"closed_on_time"`
	ClosureRate     *float64         `json:"closure_rate"`
	OnTimeRate      *float64         `json:"on_time_rate"`
	AvgDaysToClose  *float64         `json:"avg_days_to_close"`
	P90DaysToClose  *float64         `json:"p90_days_to_close"`
	Reworked        int64            `json:"reworked"`
	ReworkRate      *float64         `json:"rework_rate"`
	Reopened        int64            `json:"reopened"`
	ReopenRate      *float64         `json:"reopen_rate"`
	Extensions      int64            `json:"extensions"`
	RecheckHeld     int64            `json:"recheck_held"`
	RecheckRelapsed int64            `json:"recheck_relapsed"`
	RelapseRate     *float64         `json:"relapse_rate"`
}

func toNodeCounts(ns []app.NodeCount, unit bool) []nodeCountJSON {
	out := make([]nodeCountJSON, len(ns))
	for i, n := range ns {
		id := n.ID
		x := nodeCountJSON{Code: n.Code, Name: n.Name, ParentID: optID(n.ParentID), Total: n.Total, Closed: n.Closed,
			Dismissed: n.Dismissed, Overdue: n.Overdue, ClosureRate: n.ClosureRate}
		if unit {
			x.UnitID = &id
		} else {
			x.CategoryID = &id
		}
		out[i] = x
	}
	return out
}

func counts[K ~string](m map[K]int64) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func (a *api) overview(c *gin.Context) error {
	in, err := a.parseBoardFilter(c)
	if err != nil {
		return err
	}
	loc := a.svc.Core.Config().Location
	if in.From, err = instant("from", c.Query("from"), loc, false); err != nil {
		return err
	}
	if in.To, err = instant("to", c.Query("to"), loc, true); err != nil {
		return err
	}
	o, err := a.svc.Board.Overview(c.Request.Context(), caller(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, overviewJSON{AsOf: o.AsOf, Total: o.Total, ByStatus: counts(o.ByStatus),
		BySeverity: counts(o.BySeverity), BySource: counts(o.BySource), ByCategory: toNodeCounts(o.ByCategory, false),
		ByUnit: toNodeCounts(o.ByUnit, true), Overdue: o.Overdue,
		Warning: warningJSON{Green: o.Warning.Green, Yellow: o.Warning.Yellow, Red: o.Warning.Red},
		Closed:  o.Closed, ClosedOnTime: o.ClosedOnTime, ClosureRate: o.ClosureRate, OnTimeRate: o.OnTimeRate,
		AvgDaysToClose: o.AvgDaysToClose, P90DaysToClose: o.P90DaysToClose, Reworked: o.Reworked,
		ReworkRate: o.ReworkRate, Reopened: o.Reopened, ReopenRate: o.ReopenRate, Extensions: o.Extensions,
		RecheckHeld: o.RecheckHeld, RecheckRelapsed: o.RecheckRelapsed, RelapseRate: o.RelapseRate})
	return nil
}

type trendPeriodJSON struct {
	Label      string      `json:"label"`
	Start      domain.Date `json:"start"`
	End        domain.Date `json:"end"`
	Registered int64       `json:"registered"`
	Closed     int64       `json:"closed"`
	Dismissed  int64       `json:"dismissed"`
	Overdue    int64       `json:"overdue"`
	Backlog    int64       `json:"backlog"`
}

type trendJSON struct {
	By      string            `json:"by"`
	Periods []trendPeriodJSON `json:"periods"`
}

// optionalDate reads a YYYY-MM-DD query parameter.
func optionalDate(c *gin.Context, name string) (domain.Date, error) {
	v := c.Query(name)
	if v == "" {
		return domain.Date{}, nil
	}
	d, err := domain.ParseDate(v)
	if err != nil {
		return d, invalidField(name, err.Error())
	}
	return d, nil
}

func (a *api) trend(c *gin.Context) error {
	in, err := a.parseBoardFilter(c, "by")
	if err != nil {
		return err
	}
	t := app.TrendInput{Filter: in, By: stats.Granularity(c.Query("by"))}
	if t.From, err = optionalDate(c, "from"); err != nil {
		return err
	}
	if t.To, err = optionalDate(c, "to"); err != nil {
		return err
	}
	periods, err := a.svc.Board.Trend(c.Request.Context(), caller(c), t)
	if err != nil {
		return err
	}
	out := trendJSON{By: string(stats.ByMonth), Periods: make([]trendPeriodJSON, len(periods))}
	if t.By != "" {
		out.By = string(t.By)
	}
	for i, p := range periods {
		out.Periods[i] = trendPeriodJSON{Label: p.Label, Start: p.Start, End: p.End.AddDays(-1), Registered: p.Registered,
			Closed: p.Closed, Dismissed: p.Dismissed, Overdue: p.Overdue, Backlog: p.Backlog}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type evaluationItemJSON struct {
	UserID        *int64   `json:"user_id,omitempty"`
	UnitID        *int64   `json:"unit_id"`
	Name          string   `json:"name"`
	Closed        int      `json:"closed"`
	Workload      float64  `json:"workload"`
	FirstPass     int      `json:"first_pass"`
	Accuracy      *float64 `json:"accuracy"`
	OnTime        int      `json:"on_time"`
	Accepts       int      `json:"accepts"`
	PromptAccepts int      `json:"prompt_accepts"`
	Timeliness    *float64 `json:"timeliness"`
	Contribution  float64  `json:"contribution"`
	Score         float64  `json:"score"`
	Rank          int      `json:"rank"`
}

type improvementJSON struct {
	evaluationItemJSON
	PreviousScore float64 `json:"previous_score"`
	Rise          float64 `json:"rise"`
}

type formulaJSON struct {
	Text    string        `json:"text"`
	Weights stats.Weights `json:"weights"`
}

type evaluationJSON struct {
	Month        string               `json:"month"`
	Level        string               `json:"level"`
	Items        []evaluationItemJSON `json:"items"`
	ModelWorker  []evaluationItemJSON `json:"model_worker"`
	MostImproved []improvementJSON    `json:"most_improved"`
	Formula      formulaJSON          `json:"formula"`
	Published    bool                 `json:"published"`
	PublishedAt  *time.Time           `json:"published_at"`
	PublishedBy  *int64               `json:"published_by"`
	ComputedAt   time.Time            `json:"computed_at"`
}

func toEvaluationItem(x app.EvaluationItem, level app.EvaluationLevel) evaluationItemJSON {
	id := x.ID
	out := evaluationItemJSON{Name: x.Name, Closed: x.Closed, Workload: x.Workload, FirstPass: x.FirstPass,
		Accuracy: x.Accuracy, OnTime: x.OnTime, Accepts: x.Accepts, PromptAccepts: x.PromptAccepts,
		Timeliness: x.Timeliness, Contribution: x.Contribution, Score: x.Score, Rank: x.Rank}
	if level == app.LevelUnit {
		out.UnitID = &id
	} else {
		out.UserID, out.UnitID = &id, optID(x.UnitID)
	}
	return out
}

func toEvaluationJSON(ev *app.Evaluation) evaluationJSON {
	out := evaluationJSON{Month: ev.Month, Level: string(ev.Level), Items: []evaluationItemJSON{},
		ModelWorker: []evaluationItemJSON{}, MostImproved: []improvementJSON{},
		Formula: formulaJSON{Text: ev.Formula, Weights: ev.Weights}, Published: ev.Published,
		PublishedAt: ev.PublishedAt, PublishedBy: optID(ev.PublishedBy), ComputedAt: ev.ComputedAt}
	for _, x := range ev.Items {
		out.Items = append(out.Items, toEvaluationItem(x, ev.Level))
	}
	for _, x := range ev.ModelWorkers {
		out.ModelWorker = append(out.ModelWorker, toEvaluationItem(x, ev.Level))
	}
	for _, x := range ev.MostImproved {
		out.MostImproved = append(out.MostImproved, improvementJSON{evaluationItemJSON: toEvaluationItem(x.EvaluationItem, ev.Level),
			PreviousScore: x.PreviousScore, Rise: x.Rise})
	}
	return out
}

func monthParam(field, v string) (stats.Month, error) {
	if v == "" {
		return stats.Month{}, invalidField(field, "is required, as YYYY-MM")
	}
	m, err := stats.ParseMonth(v)
	if err != nil {
		return m, invalidField(field, err.Error())
	}
	return m, nil
}

func (a *api) evaluation(c *gin.Context) error {
	if err := allowQuery(c, "month", "level"); err != nil {
		return err
	}
	month, err := monthParam("month", c.Query("month"))
	if err != nil {
		return err
	}
	level, err := app.ParseLevel(c.Query("level"))
	if err != nil {
		return err
	}
	ev, err := a.svc.Board.Evaluation(c.Request.Context(), caller(c), month, level)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toEvaluationJSON(ev))
	return nil
}

type publicationJSON struct {
	Month       string    `json:"month"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy int64     `json:"published_by"`
}

func (a *api) publishEvaluation(c *gin.Context) error {
	var req struct {
		Month string `json:"month"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	month, err := monthParam("month", req.Month)
	if err != nil {
		return err
	}
	ans := typed(func(p *app.Publication) (response, error) {
		return jsonAnswer(http.StatusCreated, publicationJSON{Month: p.Month, PublishedAt: p.PublishedAt, PublishedBy: p.PublishedBy}, nil)
	})
	p, err := a.svc.Board.PublishEvaluation(c.Request.Context(), answering(c, ans), month)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type reportRowJSON struct {
	SubjectType string           `json:"subject_type"`
	SubjectID   int64            `json:"subject_id"`
	Name        string           `json:"name"`
	UnitID      *int64           `json:"unit_id"`
	Count       int              `json:"count"`
	Details     map[string]int64 `json:"details"`
	ProblemIDs  []int64          `json:"problem_ids"`
	Seqs        []int64          `json:"seqs"`
}

type reportJSON struct {
	Report    string          `json:"report"`
	Label     string          `json:"label"`
	From      domain.Date     `json:"from"`
	To        domain.Date     `json:"to"`
	Rows      []reportRowJSON `json:"rows"`
	Truncated bool            `json:"truncated"`
}

func toReportJSON(rep *app.Report) reportJSON {
	out := reportJSON{Report: string(rep.Kind), Label: rep.Kind.Label(), From: rep.From, To: rep.To,
		Rows: make([]reportRowJSON, len(rep.Rows)), Truncated: rep.Truncated}
	for i, r := range rep.Rows {
		seqs := r.Seqs
		if seqs == nil {
			seqs = []int64{}
		}
		out.Rows[i] = reportRowJSON{SubjectType: r.SubjectType, SubjectID: r.SubjectID, Name: r.Name, UnitID: optID(r.UnitID),
			Count: r.Count, Details: r.Details, ProblemIDs: r.ProblemIDs, Seqs: seqs}
	}
	return out
}

// parseReport reads a discipline report's parameters.
func parseReport(c *gin.Context) (app.ReportInput, error) {
	var in app.ReportInput
	if err := allowQuery(c, "report", "from", "to", "unit_id", "by", "min"); err != nil {
		return in, err
	}
	in.Kind, in.By = app.ReportKind(c.Query("report")), c.Query("by")
	if in.Kind == "" {
		return in, invalidField("report", "is required")
	}
	var err error
	if in.From, err = optionalDate(c, "from"); err != nil {
		return in, err
	}
	if in.To, err = optionalDate(c, "to"); err != nil {
		return in, err
	}
	if v := c.Query("unit_id"); v != "" {
		if in.UnitID, err = strconv.ParseInt(v, 10, 64); err != nil || in.UnitID <= 0 {
			return in, invalidField("unit_id", "must be a positive integer id")
		}
	}
	if v := c.Query("min"); v != "" {
		if in.MinCount, err = strconv.Atoi(v); err != nil || in.MinCount < 1 {
			return in, invalidField("min", "must be from 1 to 100")
		}
	}
	return in, nil
}

func (a *api) discipline(c *gin.Context) error {
	in, err := parseReport(c)
	if err != nil {
		return err
	}
	rep, err := a.svc.Board.Report(c.Request.Context(), caller(c), in)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, toReportJSON(rep))
	return nil
}

type contributionJSON struct {
	ID        int64     `json:"id"`
	Month     string    `json:"month"`
	UserID    *int64    `json:"user_id"`
	UnitID    int64     `json:"unit_id"`
	Points    int       `json:"points"`
	Reason    string    `json:"reason"`
	AwardedBy int64     `json:"awarded_by"`
	CreatedAt time.Time `json:"created_at"`
}

func toContributionJSON(x *app.Contribution) contributionJSON {
	return contributionJSON{ID: x.ID, Month: x.Month, UserID: optID(x.UserID), UnitID: x.UnitID, Points: x.Points,
		Reason: x.Reason, AwardedBy: x.AwardedBy, CreatedAt: x.CreatedAt}
}

type contributionRequest struct {
	UserID *int64  `json:"user_id"`
	UnitID *int64  `json:"unit_id"`
	Points *int    `json:"points"`
	Reason string  `json:"reason"`
	Month  *string `json:"month"`
}

func (a *api) awardContribution(c *gin.Context) error {
	var req contributionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := app.ContributionInput{Reason: req.Reason}
	if req.UserID != nil {
		if *req.UserID <= 0 {
			return invalidField("user_id", "must be a user id")
		}
		in.UserID = *req.UserID
	}
	if req.UnitID != nil {
		if *req.UnitID <= 0 {
			return invalidField("unit_id", "must be a unit id")
		}
		in.UnitID = *req.UnitID
	}
	if req.Points == nil {
		return invalidField("points", "is required")
	}
	in.Points = *req.Points
	if req.Month != nil {
		if _, err := monthParam("month", *req.Month); err != nil {
			return err
		}
		in.Month = *req.Month
	}
	ans := typed(func(x *app.Contribution) (response, error) {
		return jsonAnswer(http.StatusCreated, toContributionJSON(x), nil)
	})
	x, err := a.svc.Board.AwardContribution(c.Request.Context(), answering(c, ans), in)
	if err != nil {
		return err
	}
	return reply(c, ans, x)
}

func (a *api) listContributions(c *gin.Context) error {
	if err := allowQuery(c, "month", "user_id", "unit_id", "limit", "cursor"); err != nil {
		return err
	}
	var q app.ContributionQuery
	if v := c.Query("month"); v != "" {
		m, err := monthParam("month", v)
		if err != nil {
			return err
		}
		q.Month = m.String()
	}
	for name, dst := range map[string]*int64{"user_id": &q.UserID, "unit_id": &q.UnitID} {
		if v := c.Query(name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				return invalidField(name, "must be a positive integer id")
			}
			*dst = n
		}
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	if q.BeforeID, err = decodeCursor("k", c.Query("cursor")); err != nil {
		return err
	}
	q.Limit = n + 1
	xs, err := a.svc.Board.Contributions(c.Request.Context(), caller(c), q)
	if err != nil {
		return err
	}
	out := listJSON[contributionJSON]{Items: []contributionJSON{}}
	if len(xs) > n {
		xs = xs[:n]
		out.NextCursor = encodeCursor("k", xs[n-1].ID)
	}
	for _, x := range xs {
		out.Items = append(out.Items, toContributionJSON(x))
	}
	c.JSON(http.StatusOK, out)
	return nil
}
