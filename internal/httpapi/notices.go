package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
)

type noticeJSON struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	SourceType  *string    `json:"source_type"`
	SourceRef   *string    `json:"source_ref"`
	Status      string     `json:"status"`
	Version     int64      `json:"version"`
	CreatedBy   int64      `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	PublishedBy *int64     `json:"published_by"`
	PublishedAt *time.Time `json:"published_at"`
}

func toNoticeJSON(n *app.Notice) noticeJSON {
	return noticeJSON{ID: n.ID, Kind: string(n.Kind), Title: n.Title, Body: n.Body, SourceType: optString(n.SourceType),
		SourceRef: optString(n.SourceRef), Status: string(n.Status), Version: n.Version, CreatedBy: n.CreatedBy,
		CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, PublishedBy: optID(n.PublishedBy), PublishedAt: n.PublishedAt}
}

// noticeAnswer renders a notice with its ETag (and, when created, its
// Location); an idempotent request stores this answer with the change.
func noticeAnswer(status int) answer {
	return typed(func(n *app.Notice) (response, error) {
		h := map[string]string{"ETag": etag(n.Version)}
		if status == http.StatusCreated {
			h["Location"] = "/api/v1/notices/" + strconv.FormatInt(n.ID, 10)
		}
		return jsonAnswer(status, toNoticeJSON(n), h)
	})
}

type noticeSourceRequest struct {
	Month string `json:"month"`
	Level string `json:"level"`
}

type noticeReportRequest struct {
	Report string `json:"report"`
	From   string `json:"from"`
	To     string `json:"to"`
	UnitID int64  `json:"unit_id"`
	By     string `json:"by"`
	Min    int    `json:"min"`
}

type noticeRequest struct {
	Kind       string               `json:"kind"`
	Title      string               `json:"title"`
	Body       string               `json:"body"`
	Evaluation *noticeSourceRequest `json:"evaluation"`
	Report     *noticeReportRequest `json:"report"`
}

func (a *api) draftNotice(c *gin.Context) error {
	var req noticeRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	in := app.NoticeInput{Kind: app.NoticeKind(req.Kind), Title: req.Title, Body: req.Body}
	if e := req.Evaluation; e != nil {
		month, err := monthParam("evaluation.month", e.Month)
		if err != nil {
			return err
		}
		level, err := app.ParseLevel(e.Level)
		if err != nil {
			return invalidField("evaluation.level", "must be person or unit")
		}
		in.Evaluation = &app.NoticeEvaluation{Month: month, Level: level}
	}
	if rr := req.Report; rr != nil {
		rep := app.ReportInput{Kind: app.ReportKind(rr.Report), UnitID: rr.UnitID, By: rr.By, MinCount: rr.Min}
		var err error
		if rep.From, err = optDate("report.from", &rr.From); err != nil {
			return err
		}
		if rep.To, err = optDate("report.to", &rr.To); err != nil {
			return err
		}
		if rep.Kind == "" {
			return invalidField("report.report", "is required")
		}
		in.Report = &rep
	}
	ans := noticeAnswer(http.StatusCreated)
	n, err := a.svc.Board.DraftNotice(c.Request.Context(), answering(c, ans), in)
	if err != nil {
		return err
	}
	return reply(c, ans, n)
}

func (a *api) getNotice(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	n, err := a.svc.Board.Notice(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	return reply(c, noticeAnswer(http.StatusOK), n)
}

func (a *api) editNotice(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req struct {
		Kind  *string `json:"kind"`
		Title *string `json:"title"`
		Body  *string `json:"body"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	p := app.NoticePatch{Title: req.Title, Body: req.Body}
	if req.Kind != nil {
		k := app.NoticeKind(*req.Kind)
		p.Kind = &k
	}
	ans := noticeAnswer(http.StatusOK)
	n, err := a.svc.Board.EditNotice(c.Request.Context(), answering(c, ans), id, match, p)
	if err != nil {
		return err
	}
	return reply(c, ans, n)
}

func (a *api) publishNotice(c *gin.Context) error {
	id, match, err := actionTarget(c)
	if err != nil {
		return err
	}
	var req struct{}
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	ans := noticeAnswer(http.StatusOK)
	n, err := a.svc.Board.PublishNotice(c.Request.Context(), answering(c, ans), id, match)
	if err != nil {
		return err
	}
	return reply(c, ans, n)
}

func (a *api) listNotices(c *gin.Context) error {
	if err := allowQuery(c, "status", "kind", "limit", "cursor"); err != nil {
		return err
	}
	var q app.NoticeQuery
	switch s := app.NoticeStatus(c.Query("status")); s {
	case "":
	case app.NoticeDraft, app.NoticePublished:
		q.Statuses = []app.NoticeStatus{s}
	default:
		return invalidField("status", "must be draft or published")
	}
	switch k := app.NoticeKind(c.Query("kind")); k {
	case "":
	case app.NoticePraise, app.NoticeCriticism:
		q.Kind = k
	default:
		return invalidField("kind", "must be praise or criticism")
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	if q.BeforeID, err = decodeCursor("n", c.Query("cursor")); err != nil {
		return err
	}
	q.Limit = n + 1
	ns, err := a.svc.Board.Notices(c.Request.Context(), caller(c), q)
	if err != nil {
		return err
	}
	out := listJSON[noticeJSON]{Items: []noticeJSON{}}
	if len(ns) > n {
		ns = ns[:n]
		out.NextCursor = encodeCursor("n", ns[n-1].ID)
	}
	for _, x := range ns {
		out.Items = append(out.Items, toNoticeJSON(x))
	}
	c.JSON(http.StatusOK, out)
	return nil
}
