package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// routeNotify registers the inbox (通知), the re-checks (回头看) and the
// admin's view of the webhook outbox.
func (a *api) routeNotify(auth *gin.RouterGroup) {
	auth.GET("/notifications", a.handle(a.listNotifications))
	auth.POST("/notifications/read", a.handle(a.markRead))
	auth.GET("/rechecks", a.handle(a.listRechecks))
	auth.POST("/rechecks/:id/result", a.handle(a.recordRecheck))
	auth.GET("/admin/outbox", a.handle(a.listOutbox))
	auth.POST("/admin/outbox/:id/retry", a.handle(a.retryOutbox))
}

// The inbox.

type notificationJSON struct {
	ID        int64      `json:"id"`
	EventID   string     `json:"event_id"`
	Kind      string     `json:"kind"`
	ProblemID *int64     `json:"problem_id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at"`
	Read      bool       `json:"read"`
}

func toNotificationJSON(n *app.Notification) notificationJSON {
	return notificationJSON{ID: n.ID, EventID: n.EventID, Kind: n.Kind, ProblemID: optID(n.ProblemID), Title: n.Title,
		Body: n.Body, CreatedAt: n.CreatedAt, ReadAt: n.ReadAt, Read: n.ReadAt != nil}
}

// inboxJSON is the list envelope with the caller's unread count.
type inboxJSON struct {
	Items      []notificationJSON `json:"items"`
	NextCursor *string            `json:"next_cursor"`
	Unread     int64              `json:"unread"`
}

func (a *api) listNotifications(c *gin.Context) error {
	if err := allowQuery(c, "unread", "limit", "cursor"); err != nil {
		return err
	}
	var unreadOnly bool
	switch c.Query("unread") {
	case "", "false":
	case "true":
		unreadOnly = true
	default:
		return invalidField("unread", "must be true or false")
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	before, err := decodeCursor("i", c.Query("cursor"))
	if err != nil {
		return err
	}
	in, err := a.svc.Notify.Notifications(c.Request.Context(), caller(c), unreadOnly, before, n+1)
	if err != nil {
		return err
	}
	items := in.Items
	out := inboxJSON{Items: []notificationJSON{}, Unread: in.Unread}
	if len(items) > n {
		items = items[:n]
		out.NextCursor = encodeCursor("i", items[n-1].ID)
	}
	for _, x := range items {
		out.Items = append(out.Items, toNotificationJSON(x))
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// maxMarkRead bounds the ids of one mark-read request.
const maxMarkRead = 200

type markReadRequest struct {
	IDs *[]int64 `json:"ids"`
	All *bool    `json:"all"`
}

type markReadJSON struct {
	Marked int64 `json:"marked"`
	Unread int64 `json:"unread"`
}

// markReadIDs reads which notifications to mark: the ids given, or nil for
// all of them. Exactly one of ids and all: true is given.
func markReadIDs(req markReadRequest) ([]int64, error) {
	var bad []domain.FieldError
	switch {
	case req.IDs != nil && req.All != nil:
		bad = append(bad, domain.FieldError{Field: "all", Reason: "give either ids or all, not both"},
			domain.FieldError{Field: "ids", Reason: "give either ids or all, not both"})
	case req.All != nil && !*req.All:
		bad = append(bad, domain.FieldError{Field: "all", Reason: "must be true; to mark some notifications give their ids"})
	case req.All != nil:
		return nil, nil
	case req.IDs == nil:
		bad = append(bad, domain.FieldError{Field: "ids", Reason: "is required unless all is true"})
	case len(*req.IDs) == 0 || len(*req.IDs) > maxMarkRead:
		bad = append(bad, domain.FieldError{Field: "ids", Reason: fmt.Sprintf("must hold 1 to %d ids", maxMarkRead)})
	default:
		for i, id := range *req.IDs {
			if id <= 0 {
				bad = append(bad, domain.FieldError{Field: fmt.Sprintf("ids[%d]", i), Reason: "must be a positive id"})
			}
		}
	}
	if len(bad) > 0 {
		return nil, &badRequest{msg: "invalid input: give ids, or all: true", fields: bad}
	}
	return *req.IDs, nil
}

func (a *api) markRead(c *gin.Context) error {
	var req markReadRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ids, err := markReadIDs(req)
	if err != nil {
		return err
	}
	ans := typed(func(r app.MarkReadResult) (response, error) {
		return jsonAnswer(http.StatusOK, markReadJSON{Marked: r.Marked, Unread: r.Unread}, nil)
	})
	marked, unread, err := a.svc.Notify.MarkRead(c.Request.Context(), answering(c, ans), ids)
	if err != nil {
		return err
	}
	return reply(c, ans, app.MarkReadResult{Marked: marked, Unread: unread})
}

// Re-checks (回头看).

type recheckProblemJSON struct {
	ID         int64         `json:"id"`
	Code       string        `json:"code"`
	Title      string        `json:"title"`
	Status     domain.Status `json:"status"`
	UnitID     int64         `json:"unit_id"`
	AssigneeID *int64        `json:"assignee_id"`
	Deadline   domain.Date   `json:"deadline"`
}

type recheckJSON struct {
	ID         int64              `json:"id"`
	ProblemID  int64              `json:"problem_id"`
	Problem    recheckProblemJSON `json:"problem"`
	Round      int                `json:"round"`
	OffsetDays int                `json:"offset_days"`
	DueOn      domain.Date        `json:"due_on"`
	Status     app.RecheckStatus  `json:"status"`
	Note       *string            `json:"note"`
	CheckedBy  *int64             `json:"checked_by"`
	CheckedAt  *time.Time         `json:"checked_at"`
	RemindedAt *time.Time         `json:"reminded_at"`
	CreatedAt  time.Time          `json:"created_at"`
}

func toRecheckJSON(rc *app.Recheck) recheckJSON {
	p := rc.Problem
	return recheckJSON{ID: rc.ID, ProblemID: rc.ProblemID, Round: rc.Round, OffsetDays: rc.OffsetDays, DueOn: rc.DueOn,
		Status: rc.Status, Note: optString(rc.Note), CheckedBy: optID(rc.CheckedBy), CheckedAt: rc.CheckedAt,
		RemindedAt: rc.RemindedAt, CreatedAt: rc.CreatedAt,
		Problem: recheckProblemJSON{ID: rc.ProblemID, Code: p.Code, Title: p.Title, Status: p.Status, UnitID: p.UnitID,
			AssigneeID: optID(p.AssigneeID), Deadline: p.Deadline}}
}

// recheckCursor is the re-check list's cursor: the due date and id of the
// last item, as base64url of "r:YYYY-MM-DD/ID".
func recheckCursor(rc *app.Recheck) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte("r:" + rc.DueOn.String() + "/" + strconv.FormatInt(rc.ID, 10)))
	return &s
}

func decodeRecheckCursor(s string) (app.RecheckCursor, error) {
	var cur app.RecheckCursor
	if s == "" {
		return cur, nil
	}
	bad := invalidField("cursor", "is not a cursor of this list")
	if len(s) > 64 {
		return cur, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cur, bad
	}
	pos, ok := strings.CutPrefix(string(b), "r:")
	due, id, cut := strings.Cut(pos, "/")
	if !ok || !cut {
		return cur, bad
	}
	if cur.DueOn, err = domain.ParseDate(due); err != nil {
		return cur, bad
	}
	if cur.ID, err = strconv.ParseInt(id, 10, 64); err != nil || cur.ID <= 0 {
		return app.RecheckCursor{}, bad
	}
	return cur, nil
}

// parseRecheckFilter reads the re-check list's parameters. A due date alone
// asks for the pending re-checks due by then: the work to do.
func parseRecheckFilter(c *gin.Context) (app.RecheckFilter, error) {
	var f app.RecheckFilter
	if err := allowQuery(c, "due", "status", "problem_id", "limit", "cursor"); err != nil {
		return f, err
	}
	var err error
	if f.DueBy, err = optionalDate(c, "due"); err != nil {
		return f, err
	}
	for _, s := range multiValue(c.QueryArray("status")) {
		st := app.RecheckStatus(s)
		if !slices.Contains(app.RecheckStatuses(), st) {
			return f, invalidField("status", "unknown re-check status "+strconv.Quote(s))
		}
		f.Statuses = append(f.Statuses, st)
	}
	if !f.DueBy.IsZero() && len(f.Statuses) == 0 {
		f.Statuses = []app.RecheckStatus{app.RecheckPending}
	}
	if v := c.Query("problem_id"); v != "" {
		if f.ProblemID, err = strconv.ParseInt(v, 10, 64); err != nil || f.ProblemID <= 0 {
			return f, invalidField("problem_id", "must be a positive integer id")
		}
	}
	if f.Limit, err = limit(c); err != nil {
		return f, err
	}
	if f.After, err = decodeRecheckCursor(c.Query("cursor")); err != nil {
		return f, err
	}
	return f, nil
}

func (a *api) listRechecks(c *gin.Context) error {
	f, err := parseRecheckFilter(c)
	if err != nil {
		return err
	}
	rs, more, err := a.svc.Lifecycle.Rechecks(c.Request.Context(), caller(c), f)
	if err != nil {
		return err
	}
	out := listJSON[recheckJSON]{Items: make([]recheckJSON, len(rs))}
	for i, rc := range rs {
		out.Items[i] = toRecheckJSON(rc)
	}
	if more && len(rs) > 0 {
		out.NextCursor = recheckCursor(rs[len(rs)-1])
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type recheckRequest struct {
	Result        string  `json:"result"`
	Note          string  `json:"note"`
	Deadline      *string `json:"deadline"`
	AttachmentIDs []int64 `json:"attachment_ids"`
}

type recheckResultJSON struct {
	Recheck recheckJSON `json:"recheck"`
	Problem problemJSON `json:"problem"`
}

func (a *api) recordRecheck(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req recheckRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	deadline, err := optDate("deadline", req.Deadline)
	if err != nil {
		return err
	}
	viewer := caller(c).Actor
	ans := typed(func(r *app.RecheckResult) (response, error) {
		// The use case's re-check carries the problem as the result left it
		// (a relapse reopened it).
		return jsonAnswer(http.StatusOK, recheckResultJSON{Recheck: toRecheckJSON(r.Recheck),
			Problem: toProblemJSON(r.Problem, viewer, a.svc.Core.Today(), a.svc.Core.Config().Deadlines.YellowDays)}, nil)
	})
	res, err := a.svc.Lifecycle.RecordRecheck(c.Request.Context(), answering(c, ans), id, app.RecheckInput{Result: req.Result,
		Note: req.Note, Deadline: deadline, AttachmentIDs: req.AttachmentIDs})
	if err != nil {
		return err
	}
	return reply(c, ans, res)
}

// The webhook outbox, for admins.

type outboxMessageJSON struct {
	ID            int64      `json:"id"`
	EventID       string     `json:"event_id"`
	Target        string     `json:"target"`
	Kind          string     `json:"kind"`
	Title         string     `json:"title"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastError     *string    `json:"last_error"`
	DeliveredAt   *time.Time `json:"delivered_at"`
}

func toOutboxMessageJSON(m *app.OutboxMessage) outboxMessageJSON {
	var ev app.OutEvent
	_ = json.Unmarshal(m.Payload, &ev) // a payload that does not read shows no title; the dispatcher reports it
	state := app.OutboxPending
	switch {
	case m.DeliveredAt != nil:
		state = app.OutboxDelivered
	case m.Attempts > 0:
		state = app.OutboxFailing
	}
	return outboxMessageJSON{ID: m.ID, EventID: m.EventID, Target: m.Target, Kind: m.Kind, Title: ev.Title, State: state,
		Attempts: m.Attempts, CreatedAt: m.CreatedAt, NextAttemptAt: m.NextAttemptAt, LastAttemptAt: m.LastAttemptAt,
		LastError: optString(m.LastError), DeliveredAt: m.DeliveredAt}
}

// validTarget reports whether s could name a webhook target: [a-z0-9_-]{1,64}.
func validTarget(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func (a *api) listOutbox(c *gin.Context) error {
	if err := allowQuery(c, "state", "target", "limit", "cursor"); err != nil {
		return err
	}
	var q app.OutboxQuery
	switch s := c.Query("state"); s {
	case "", app.OutboxPending, app.OutboxFailing, app.OutboxDelivered:
		q.State = s
	default:
		return invalidField("state", "must be pending, failing or delivered")
	}
	if t, ok := c.GetQuery("target"); ok {
		if !validTarget(t) {
			return invalidField("target", "must be a target's name: 1 to 64 of a-z, 0-9, _ and -")
		}
		q.Target = t
	}
	var err error
	if q.Limit, err = limit(c); err != nil {
		return err
	}
	if q.BeforeID, err = decodeCursor("o", c.Query("cursor")); err != nil {
		return err
	}
	ms, more, err := a.svc.Notify.Outbox(c.Request.Context(), caller(c), q)
	if err != nil {
		return err
	}
	out := listJSON[outboxMessageJSON]{Items: make([]outboxMessageJSON, len(ms))}
	for i, m := range ms {
		out.Items[i] = toOutboxMessageJSON(m)
	}
	if more && len(ms) > 0 {
		out.NextCursor = encodeCursor("o", ms[len(ms)-1].ID)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

func (a *api) retryOutbox(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	var req struct{}
	if err := decodeOptional(c, &req); err != nil {
		return err
	}
	ans := typed(func(m *app.OutboxMessage) (response, error) {
		return jsonAnswer(http.StatusOK, toOutboxMessageJSON(m), nil)
	})
	m, err := a.svc.Notify.RetryOutbox(c.Request.Context(), answering(c, ans), id)
	if err != nil {
		return err
	}
	return reply(c, ans, m)
}
