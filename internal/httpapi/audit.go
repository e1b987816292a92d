package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/audit"
)

func (a *api) listAudit(c *gin.Context) error {
	if err := allowQuery(c, "actor_id", "object_type", "object_id", "action", "outcome", "from", "to", "limit", "cursor"); err != nil {
		return err
	}
	q := app.AuditQuery{ObjectType: c.Query("object_type"), ObjectID: c.Query("object_id"), Action: c.Query("action"),
		Outcome: c.Query("outcome")}
	if utf8.RuneCountInString(q.ObjectID) > 64 { // characters, as the column and the document count them
		return invalidField("object_id", "is longer than 64 characters")
	}
	for name, v := range map[string]struct {
		value string
		known []string
	}{
		"object_type": {q.ObjectType, app.AuditObjectTypes()},
		"action":      {q.Action, app.AuditActions()},
		"outcome":     {q.Outcome, app.AuditOutcomes()},
	} {
		if v.value != "" && !slices.Contains(v.known, v.value) {
			return invalidField(name, "must be one of "+strings.Join(v.known, ", "))
		}
	}
	if v := c.Query("actor_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return invalidField("actor_id", "must be a positive integer id")
		}
		q.ActorID = n
	}
	loc := a.svc.Core.Config().Location
	var err error
	if q.From, err = instant("from", c.Query("from"), loc, false); err != nil {
		return err
	}
	if q.To, err = instant("to", c.Query("to"), loc, true); err != nil {
		return err
	}
	n, err := limit(c)
	if err != nil {
		return err
	}
	if q.BeforeSeq, err = decodeCursor("a", c.Query("cursor")); err != nil {
		return err
	}
	q.Limit = n + 1
	entries, err := a.svc.Trail.Audit(c.Request.Context(), caller(c), q)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, auditPage(entries, n, "a"))
	return nil
}

// auditPage renders up to n entries; one more than n means there is a next page.
func auditPage(entries []*audit.Entry, n int, cursorKind string) listJSON[auditJSON] {
	out := listJSON[auditJSON]{Items: []auditJSON{}}
	if len(entries) > n {
		entries = entries[:n]
		out.NextCursor = encodeCursor(cursorKind, entries[n-1].Seq)
	}
	for _, e := range entries {
		out.Items = append(out.Items, toAuditJSON(e))
	}
	return out
}

type verifyJSON struct {
	OK          bool          `json:"ok"`
	Checked     int           `json:"checked"`
	FirstBad    *int64        `json:"first_bad"`
	Reason      string        `json:"reason,omitempty"`
	Checkpoints int           `json:"checkpoints"`
	Logged      int           `json:"logged_checkpoints"`
	Findings    []findingJSON `json:"findings"`
}

type findingJSON struct {
	FirstBad *int64 `json:"first_bad"`
	Stream   string `json:"stream,omitempty"`
	Reason   string `json:"reason"`
}

func (a *api) verifyAudit(c *gin.Context) error {
	res, err := a.svc.Trail.VerifyAudit(c.Request.Context(), caller(c))
	if err != nil {
		return err
	}
	out := verifyJSON{OK: res.OK, Checked: res.Checked, FirstBad: res.FirstBad, Reason: res.Reason,
		Checkpoints: res.Checkpoints, Logged: res.Logged, Findings: []findingJSON{}}
	for _, f := range res.Findings {
		fj := findingJSON{Stream: f.Stream, Reason: f.Reason}
		if f.Seq > 0 {
			fj.FirstBad = &f.Seq
		}
		out.Findings = append(out.Findings, fj)
	}
	c.JSON(http.StatusOK, out)
	return nil
}

type checkpointJSON struct {
	Number      int64  `json:"number"`
	Root        string `json:"root"`
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
}

func (a *api) latestCheckpoint(c *gin.Context) error {
	cp, err := a.svc.Trail.LatestCheckpoint(c.Request.Context(), caller(c))
	if err != nil {
		return err
	}
	out := checkpointJSON{VerifierKey: a.svc.Trail.AuditVerifierKey()}
	if cp != nil {
		out.Number, out.Root, out.Note = cp.Number, cp.Root, cp.Note
	}
	c.JSON(http.StatusOK, out)
	return nil
}
