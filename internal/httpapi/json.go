package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
	"github.com/rectify-team/rectify/internal/domain"
)

// Wire types. Nothing here is a gorm model, and nothing from gorm is returned.

type problemJSON struct {
	ID               int64           `json:"id"`
	Code             string          `json:"code"`
	Title            string          `json:"title"`
	Description      string          `json:"description"`
	CategoryID       int64           `json:"category_id"`
	Severity         domain.Severity `json:"severity"`
	Source           domain.Source   `json:"source"`
	UnitID           int64           `json:"unit_id"`
	FoundAt          domain.Date     `json:"found_at"`
	Status           domain.Status   `json:"status"`
	StatusLabel      string          `json:"status_label"`
	Version          int64           `json:"version"`
	AssigneeID       *int64          `json:"assignee_id"`
	Deadline         domain.Date     `json:"deadline"`
	Measures         string          `json:"measures"`
	Percent          int             `json:"percent"`
	Warning          *string         `json:"warning"`
	Overdue          bool            `json:"overdue"`
	ReworkCount      int             `json:"rework_count"`
	ReopenCount      int             `json:"reopen_count"`
	ExtensionCount   int             `json:"extension_count"`
	ClosedOnTime     *bool           `json:"closed_on_time"`
	CreatedBy        int64           `json:"created_by"`
	CreatedAt        time.Time       `json:"created_at"`
	UpdatedAt        time.Time       `json:"updated_at"`
	AssignedAt       *time.Time      `json:"assigned_at"`
	SubmittedAt      *time.Time      `json:"submitted_at"`
	ClosedAt         *time.Time      `json:"closed_at"`
	AvailableActions []domain.Action `json:"available_actions"`
	Milestones       []milestoneJSON `json:"milestones"`
}

type milestoneJSON struct {
	ID     int64       `json:"id"`
	Due    domain.Date `json:"due"`
	Title  string      `json:"title"`
	Done   bool        `json:"done"`
	DoneAt *time.Time  `json:"done_at"`
}

func toMilestonesJSON(ms []domain.Milestone) []milestoneJSON {
	out := make([]milestoneJSON, len(ms))
	for i, m := range ms {
		out[i] = milestoneJSON{ID: m.ID, Due: m.Due, Title: m.Title, Done: m.Done, DoneAt: m.DoneAt}
	}
	return out
}

func toProblemJSON(p *domain.Problem, viewer domain.Actor, today domain.Date, yellowDays int) problemJSON {
	out := problemJSON{
		ID: p.ID, Code: p.Code, Title: p.Title, Description: p.Description, CategoryID: p.CategoryID,
		Severity: p.Severity, Source: p.Source, UnitID: p.UnitID, FoundAt: p.FoundAt, Status: p.Status,
		StatusLabel: p.Status.Label(), Version: p.Version, Deadline: p.Deadline, Measures: p.Measures,
		Percent: p.Percent, Overdue: p.Overdue(today), ReworkCount: p.ReworkCount, ReopenCount: p.ReopenCount,
		ExtensionCount: p.ExtensionCount, ClosedOnTime: p.ClosedOnTime, CreatedBy: p.CreatedBy,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, AssignedAt: p.AssignedAt, SubmittedAt: p.SubmittedAt,
		ClosedAt: p.ClosedAt, AvailableActions: p.AvailableActions(viewer), Milestones: toMilestonesJSON(p.Milestones),
	}
	if p.AssigneeID != 0 {
		id := p.AssigneeID
		out.AssigneeID = &id
	}
	if w := p.Warning(today, yellowDays); w != domain.WarningNone {
		s := string(w)
		out.Warning = &s
	}
	if out.AvailableActions == nil {
		out.AvailableActions = []domain.Action{}
	}
	return out
}

type userJSON struct {
	ID       int64    `json:"id"`
	Username string   `json:"username"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	UnitID   int64    `json:"unit_id"`
	Disabled bool     `json:"disabled"`
	// AuthSource is how the user signs in: local, ldap or oidc.
	AuthSource string    `json:"auth_source"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func toUserJSON(u *app.User) userJSON {
	return userJSON{ID: u.ID, Username: u.Username, Name: u.Name, Roles: domain.RoleNames(u.Roles), UnitID: u.UnitID,
		Disabled: u.Disabled, AuthSource: authSourceJSON(u.AuthSource), CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func authSourceJSON(s app.AuthSource) string {
	if s == "" {
		return string(app.AuthLocal)
	}
	return string(s)
}

type unitJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Path     string `json:"path"`
}

func optID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func toUnitJSON(u *app.Unit) unitJSON {
	return unitJSON{ID: u.ID, Name: u.Name, ParentID: optID(u.ParentID), Path: u.Path}
}

type categoryJSON struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	ParentID *int64 `json:"parent_id"`
	Path     string `json:"path"`
}

func toCategoryJSON(c *app.Category) categoryJSON {
	return categoryJSON{ID: c.ID, Code: c.Code, Name: c.Name, ParentID: optID(c.ParentID), Path: c.Path}
}

type auditJSON struct {
	Seq        int64           `json:"seq"`
	Stream     string          `json:"stream"`
	StreamSeq  int64           `json:"stream_seq"`
	At         time.Time       `json:"at"`
	ActorID    *int64          `json:"actor_id"`
	ActorName  string          `json:"actor_name"`
	ActorRoles []string        `json:"actor_roles"`
	IP         string          `json:"ip"`
	RequestID  string          `json:"request_id"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	FromState  *string         `json:"from_state"`
	ToState    *string         `json:"to_state"`
	Changes    json.RawMessage `json:"changes"`
	Outcome    string          `json:"outcome"`
	Reason     string          `json:"reason"`
	Hash       string          `json:"hash"`
	PrevHash   string          `json:"prev_hash"`
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func toAuditJSON(e *audit.Entry) auditJSON {
	roles := e.ActorRoles
	if roles == nil {
		roles = []string{}
	}
	changes := json.RawMessage(e.Changes)
	if !json.Valid(changes) {
		changes = json.RawMessage("{}")
	}
	return auditJSON{Seq: e.Seq, Stream: e.Stream, StreamSeq: e.StreamSeq, At: e.At, ActorID: optID(e.ActorID),
		ActorName: e.ActorName, ActorRoles: roles, IP: e.IP, RequestID: e.RequestID, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, FromState: optString(e.FromState), ToState: optString(e.ToState),
		Changes: changes, Outcome: e.Outcome, Reason: e.Reason, Hash: e.Hash, PrevHash: e.PrevHash}
}

type extensionJSON struct {
	ID          int64                  `json:"id"`
	ProblemID   int64                  `json:"problem_id"`
	RequestedBy int64                  `json:"requested_by"`
	OldDeadline domain.Date            `json:"old_deadline"`
	Deadline    domain.Date            `json:"deadline"`
	Reason      string                 `json:"reason"`
	Status      domain.ExtensionStatus `json:"status"`
	DecidedBy   *int64                 `json:"decided_by"`
	Note        string                 `json:"note"`
	CreatedAt   time.Time              `json:"created_at"`
	DecidedAt   *time.Time             `json:"decided_at"`
}

func toExtensionJSON(e *domain.Extension) extensionJSON {
	return extensionJSON{ID: e.ID, ProblemID: e.ProblemID, RequestedBy: e.RequestedBy, OldDeadline: e.OldDeadline,
		Deadline: e.Deadline, Reason: e.Reason, Status: e.Status, DecidedBy: optID(e.DecidedBy), Note: e.Note,
		CreatedAt: e.CreatedAt, DecidedAt: e.DecidedAt}
}

type commentJSON struct {
	ID        int64     `json:"id"`
	ProblemID int64     `json:"problem_id"`
	AuthorID  int64     `json:"author_id"`
	Text      string    `json:"text"`
	CreatedAt time.Time `json:"created_at"`
}

func toCommentJSON(c *app.Comment) commentJSON {
	return commentJSON{ID: c.ID, ProblemID: c.ProblemID, AuthorID: c.AuthorID, Text: c.Text, CreatedAt: c.CreatedAt}
}

// listJSON is every list's envelope.
type listJSON[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Cursors are opaque to clients: base64url of a kind and a position, so that
// a cursor of one list is refused by another.

func encodeCursor(kind string, pos int64) *string {
	s := base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(pos, 10)))
	return &s
}

func decodeCursor(kind, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	if len(s) > 64 {
		return 0, invalidField("cursor", "is not a cursor of this list")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, invalidField("cursor", "is not a cursor of this list")
	}
	k, v, ok := strings.Cut(string(b), ":")
	n, perr := strconv.ParseInt(v, 10, 64)
	if !ok || k != kind || perr != nil || n <= 0 {
		return 0, invalidField("cursor", "is not a cursor of this list")
	}
	return n, nil
}
