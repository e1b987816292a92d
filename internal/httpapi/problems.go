package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// problemAnswer renders a problem as the caller sees it, with its ETag (and,
// for a registration, its Location).
func (a *api) problemAnswer(c *gin.Context, status int) answer {
	viewer := caller(c).Actor
	return typed(func(p *domain.Problem) (response, error) {
		cfg := a.svc.Core.Config()
		h := map[string]string{"ETag": etag(p.Version)}
		if status == http.StatusCreated {
			h["Location"] = "/api/v1/problems/" + strconv.FormatInt(p.ID, 10)
		}
		return jsonAnswer(status, toProblemJSON(p, viewer, a.svc.Core.Today(), cfg.Deadlines.YellowDays), h)
	})
}

// writeProblem answers with the problem as the caller sees it, and its ETag.
func (a *api) writeProblem(c *gin.Context, status int, p *domain.Problem) {
	cfg := a.svc.Core.Config()
	c.Header("ETag", etag(p.Version))
	c.JSON(status, toProblemJSON(p, caller(c).Actor, a.svc.Core.Today(), cfg.Deadlines.YellowDays))
}

type problemRequest struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	CategoryID  *int64  `json:"category_id"`
	Severity    *string `json:"severity"`
	Source      *string `json:"source"`
	UnitID      *int64  `json:"unit_id"`
	FoundAt     *string `json:"found_at"`
}

func (a *api) registerProblem(c *gin.Context) error {
	var req problemRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	found, err := optDate("found_at", req.FoundAt)
	if err != nil {
		return err
	}
	in := app.ProblemInput{FoundAt: found}
	if req.Title != nil {
		in.Title = *req.Title
	}
	if req.Description != nil {
		in.Description = *req.Description
	}
	if req.CategoryID != nil {
		in.CategoryID = *req.CategoryID
	}
	if req.Severity != nil {
		in.Severity = domain.Severity(*req.Severity)
	}
	if req.Source != nil {
		in.Source = domain.Source(*req.Source)
	}
	if req.UnitID != nil {
		in.UnitID = *req.UnitID
	}
	ans := a.problemAnswer(c, http.StatusCreated)
	p, err := a.svc.Lifecycle.Register(c.Request.Context(), answering(c, ans), in)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

func (a *api) editProblem(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	match, err := ifMatch(c)
	if err != nil {
		return err
	}
	var req problemRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	patch := app.ProblemPatch{Title: req.Title, Description: req.Description, CategoryID: req.CategoryID, UnitID: req.UnitID}
	if req.Severity != nil {
		s := domain.Severity(*req.Severity)
		patch.Severity = &s
	}
	if req.Source != nil {
		s := domain.Source(*req.Source)
		patch.Source = &s
	}
	if req.FoundAt != nil {
		d, err := domain.ParseDate(*req.FoundAt)
		if err != nil {
			return invalidField("found_at", err.Error())
		}
		patch.FoundAt = &d
	}
	p, err := a.svc.Lifecycle.Edit(c.Request.Context(), caller(c), id, match, patch)
	if err != nil {
		return err
	}
	a.writeProblem(c, http.StatusOK, p)
	return nil
}

func (a *api) getProblem(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	p, err := a.svc.Lifecycle.Problem(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	if inm := c.GetHeader("If-None-Match"); inm != "" && strings.Trim(strings.TrimPrefix(inm, "W/"), `"`) == strconv.FormatInt(p.Version, 10) {
		c.Header("ETag", etag(p.Version))
		c.Status(http.StatusNotModified)
		return nil
	}
	a.writeProblem(c, http.StatusOK, p)
	return nil
}

// problemFilterParams are the list's query parameters.
var problemFilterParams = []string{"status", "category_id", "severity", "source", "unit_id", "assignee_id", "warning",
	"overdue", "q", "deadline_from", "deadline_to", "created_from", "created_to", "limit", "cursor"}

// parseProblemFilter reads the list filters (app.ParseProblemFilter, shared
// with the console) and the API's paging.
func (a *api) parseProblemFilter(c *gin.Context) (app.ProblemFilter, error) {
	if err := allowQuery(c, problemFilterParams...); err != nil {
		return app.ProblemFilter{}, err
	}
	q := c.Request.URL.Query()
	f, err := app.ParseProblemFilter(q, a.svc.Core.Config().Location)
	if err != nil {
		return f, queryError(err)
	}
	if f.Limit, err = limit(c); err != nil {
		return f, err
	}
	if f.BeforeID, err = decodeCursor("p", q.Get("cursor")); err != nil {
		return f, err
	}
	return f, nil
}

// instant reads a time bound of a query (app.ParseInstant).
func instant(field, v string, loc *time.Location, upper bool) (time.Time, error) {
	t, err := app.ParseInstant(field, v, loc, upper)
	return t, queryError(err)
}

// queryError keeps a bad query parameter the API's invalid_request, whichever
// layer found it.
func queryError(err error) error {
	var ve *domain.ValidationError
	if errors.As(err, &ve) && len(ve.Fields) == 1 {
		return invalidField(ve.Fields[0].Field, ve.Fields[0].Reason)
	}
	return err
}

func (a *api) listProblems(c *gin.Context) error {
	f, err := a.parseProblemFilter(c)
	if err != nil {
		return err
	}
	ps, more, err := a.svc.Lifecycle.Problems(c.Request.Context(), caller(c), f)
	if err != nil {
		return err
	}
	cfg, today, viewer := a.svc.Core.Config(), a.svc.Core.Today(), caller(c).Actor
	out := listJSON[problemJSON]{Items: make([]problemJSON, len(ps))}
	for i, p := range ps {
		out.Items[i] = toProblemJSON(p, viewer, today, cfg.Deadlines.YellowDays)
	}
	if more {
		out.NextCursor = encodeCursor("p", ps[len(ps)-1].ID)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// actionTarget reads the problem id and If-Match of an action.
func actionTarget(c *gin.Context) (id, match int64, err error) {
	if id, err = pathID(c, "id"); err != nil {
		return 0, 0, err
	}
	match, err = ifMatch(c)
	return id, match, err
}

type assignRequest struct {
	AssigneeID int64               `json:"assignee_id"`
	UnitID     *int64              `json:"unit_id"`
	Deadline   *string             `json:"deadline"`
	Measures   string              `json:"measures"`
	Milestones *[]milestoneRequest `json:"milestones"`
}

type milestoneRequest struct {
	Due   string `json:"due"`
	Title string `json:"title"`
}

// milestonePlan reads assign's milestones: nil when absent (the plan stays).
func milestonePlan(req *[]milestoneRequest) ([]domain.MilestonePlan, error) {
	if req == nil {
		return nil, nil
	}
	plan := make([]domain.MilestonePlan, len(*req))
	for i, m := range *req {
		if m.Due != "" {
			d, err := domain.ParseDate(m.Due)
			if err != nil {
				return nil, invalidField(fmt.Sprintf("milestones[%d].due", i), err.Error())
			}
			plan[i].Due = d
		}
		plan[i].Title = m.Title
	}
	return plan, nil
}

func (a *api) assign(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req assignRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	deadline, err := optDate("deadline", req.Deadline)
	if err != nil {
		return err
	}
	plan, err := milestonePlan(req.Milestones)
	if err != nil {
		return err
	}
	in := app.AssignInput{AssigneeID: req.AssigneeID, Deadline: deadline, Measures: req.Measures, Milestones: plan}
	if req.UnitID != nil {
		if *req.UnitID <= 0 {
			return invalidField("unit_id", "must be a unit id")
		}
		in.UnitID = *req.UnitID
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.Assign(c.Request.Context(), answering(c, ans), id, match, in)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type noteRequest struct {
	Note string `json:"note"`
}

type noteFunc func(ctx context.Context, c app.Caller, id, ifMatch int64, note string) (*domain.Problem, error)

// noteAction serves accept, submit and urge: a note and nothing else.
func (a *api) noteAction(fn noteFunc) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		id, match, err := actionTarget(c)
		if err != nil {
			return err
		}
		var req noteRequest
		if err := decodeOptional(c, &req); err != nil {
			return err
		}
		ans := a.problemAnswer(c, http.StatusOK)
		p, err := fn(c.Request.Context(), answering(c, ans), id, match, req.Note)
		if err != nil {
			return err
		}
		return reply(c, ans, p)
	}
}

// decodeOptional is decode for bodies whose fields are all optional: an empty body is {}.
func decodeOptional(c *gin.Context, dst any) error {
	if c.Request.ContentLength == 0 && c.Request.Header.Get("Transfer-Encoding") == "" {
		return nil
	}
	return decode(c, dst)
}

type progressRequest struct {
	Note          string  `json:"note"`
	Percent       *int    `json:"percent"`
	MilestoneIDs  []int64 `json:"milestone_ids"`
	AttachmentIDs []int64 `json:"attachment_ids"`
}

func (a *api) progress(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req progressRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.ReportProgress(c.Request.Context(), answering(c, ans), id, match, app.ProgressInput{Note: req.Note,
		Percent: req.Percent, MilestoneIDs: req.MilestoneIDs, AttachmentIDs: req.AttachmentIDs})
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type submitRequest struct {
	Note          string  `json:"note"`
	AttachmentIDs []int64 `json:"attachment_ids"`
}

func (a *api) submit(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req submitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.SubmitFix(c.Request.Context(), answering(c, ans), id, match, app.SubmitInput{Note: req.Note, AttachmentIDs: req.AttachmentIDs})
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type verifyRequest struct {
	Passed *bool  `json:"passed"`
	Note   string `json:"note"`
}

func (a *api) verify(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req verifyRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Passed == nil {
		return invalidField("passed", "is required: true to close, false to send back")
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.Verify(c.Request.Context(), answering(c, ans), id, match, *req.Passed, req.Note)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type reasonRequest struct {
	Reason   string  `json:"reason"`
	Deadline *string `json:"deadline"`
}

func (a *api) dismiss(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.Dismiss(c.Request.Context(), answering(c, ans), id, match, req.Reason)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

func (a *api) reopen(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req reasonRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	deadline, err := optDate("deadline", req.Deadline)
	if err != nil {
		return err
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.Reopen(c.Request.Context(), answering(c, ans), id, match, req.Reason, deadline)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

type commentRequest struct {
	Text string `json:"text"`
}

func (a *api) comment(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req commentRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.Comment(c.Request.Context(), answering(c, ans), id, req.Text)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

func (a *api) listComments(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	cs, err := a.svc.Lifecycle.Comments(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	out := listJSON[commentJSON]{Items: make([]commentJSON, len(cs))}
	for i, x := range cs {
		out.Items[i] = toCommentJSON(x)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type extensionRequest struct {
	Deadline *string `json:"deadline"`
	Reason   string  `json:"reason"`
}

func (a *api) requestExtension(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req extensionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	deadline, err := optDate("deadline", req.Deadline)
	if err != nil {
		return err
	}
	ans := typed(func(e *domain.Extension) (response, error) {
		return jsonAnswer(http.StatusCreated, toExtensionJSON(e), nil)
	})
	e, err := a.svc.Lifecycle.RequestExtension(c.Request.Context(), answering(c, ans), id, match, deadline, req.Reason)
	if err != nil {
		return err
	}
	return reply(c, ans, e)
}

func (a *api) listExtensions(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	es, err := a.svc.Lifecycle.Extensions(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	out := listJSON[extensionJSON]{Items: make([]extensionJSON, len(es))}
	for i, e := range es {
		out.Items[i] = toExtensionJSON(e)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type decisionRequest struct {
	Approved *bool  `json:"approved"`
	Note     string `json:"note"`
}

func (a *api) decideExtension(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	eid, err := pathID(c, "eid")
	if err != nil {
		return err
	}
	var req decisionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Approved == nil {
		return invalidField("approved", "is required")
	}
	ans := a.problemAnswer(c, http.StatusOK)
	p, err := a.svc.Lifecycle.DecideExtension(c.Request.Context(), answering(c, ans), id, match, eid, *req.Approved, req.Note)
	if err != nil {
		return err
	}
	return reply(c, ans, p)
}

func (a *api) history(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	if err := allowQuery(c, "limit", "cursor"); err != nil {
		return err
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	after, err := decodeCursor("h", c.Query("cursor"))
	if err != nil {
		return err
	}
	entries, err := a.svc.Lifecycle.History(c.Request.Context(), caller(c), id, after, n+1)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, auditPage(entries, n, "h"))
	return nil
}
