package httpapi

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/ledger"
)

// MaxImportBytes is the largest ledger workbook an import takes.
const MaxImportBytes = 16 << 20

// routeLedger registers the ledger. The export routes are static segments
// beside /problems/:id, which gin's router matches first. The import takes a
// workbook, so it sits on a group of its own whose body limit is the
// import's rather than the JSON one.
func (a *api) routeLedger(r *gin.Engine, auth *gin.RouterGroup) {
	auth.GET("/problems/export.xlsx", a.handle(a.exportLedger(ledgerXLSX)))
	auth.GET("/problems/export.csv", a.handle(a.exportLedger(ledgerCSV)))
	auth.GET("/problems/import-template.xlsx", a.handle(a.importTemplate))
	imp := r.Group("/api/v1", noStore, a.limitImport, a.authenticate, a.idempotent)
	imp.POST("/problems/import", a.handle(a.importLedger))
}

type ledgerFormat int

const (
	ledgerXLSX ledgerFormat = iota
	ledgerCSV
)

// attachment sets the headers of a file download, with its name in UTF-8 (RFC 6266).
func attachment(c *gin.Context, contentType, name string) {
	c.Header("Content-Type", contentType)
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
}

// exportLedger serves the 整改台账 with the list's filters. The filters are
// checked, and the first page read, before anything is written, so that bad
// input still gets the one error shape; the rows are then read page by page.
func (a *api) exportLedger(format ledgerFormat) func(c *gin.Context) error {
	return func(c *gin.Context) error {
		f, err := a.parseProblemFilter(c)
		if err != nil {
			return err
		}
		for _, name := range []string{"limit", "cursor"} {
			if c.Query(name) != "" {
				return invalidField(name, "the ledger holds every problem that matches; leave out limit and cursor")
			}
		}
		ctx, cl := c.Request.Context(), caller(c)
		probe := f
		probe.Limit = 1
		if _, _, err := a.svc.Lifecycle.Problems(ctx, cl, probe); err != nil {
			return err
		}
		now := a.svc.Core.Now()
		name := "整改台账-" + now.Format("20060102-1504")
		var w ledger.Writer
		if format == ledgerCSV {
			attachment(c, "text/csv; charset=utf-8", name+".csv")
			c.Status(http.StatusOK)
			w, err = ledger.NewCSV(c.Writer)
		} else {
			attachment(c, ledger.MediaTypeXLSX, name+".xlsx")
			w, err = ledger.NewXLSX(&lazyBody{c: c})
		}
		if err != nil {
			return err
		}
		n, err := a.svc.Ledger.ExportLedger(ctx, cl, f, app.LedgerPageSize, w)
		if err == nil {
			err = w.Close(ledger.Meta{Title: "整改台账", ExportedAt: now, ExportedBy: cl.Actor.Name,
				Filter: filterText(c.Request.URL.Query())})
		}
		if err != nil {
			if !c.Writer.Written() {
				return err
			}
			// Rows went out already: the status cannot change. Log, and cut the
			// connection so that the client sees a broken download, not a short one.
			a.log.ErrorContext(ctx, "ledger export failed midway", "request_id", requestID(c), "rows", n, "err", err)
			panic(http.ErrAbortHandler)
		}
		return nil
	}
}

// lazyBody starts the response on the first byte written, so that an error
// before it still gets a JSON answer.
type lazyBody struct{ c *gin.Context }

func (l *lazyBody) Write(p []byte) (int, error) {
	if !l.c.Writer.Written() {
		l.c.Status(http.StatusOK)
	}
	return l.c.Writer.Write(p)
}

// filterText renders the list's filters for the summary sheet.
func filterText(q url.Values) string {
	var parts []string
	for _, name := range problemFilterParams {
		if vs, ok := q[name]; ok {
			parts = append(parts, name+"="+strings.Join(vs, ","))
		}
	}
	return strings.Join(parts, "; ")
}

func (a *api) importTemplate(c *gin.Context) error {
	if err := allowQuery(c); err != nil {
		return err
	}
	g, err := a.svc.Ledger.LedgerGuide(c.Request.Context())
	if err != nil {
		return err
	}
	attachment(c, ledger.MediaTypeXLSX, "整改台账导入模板.xlsx")
	return ledger.Template(&lazyBody{c: c}, g)
}

// limitImport caps an import's body.
func (a *api) limitImport(c *gin.Context) {
	if c.Request.ContentLength > MaxImportBytes {
		a.writeError(c, &http.MaxBytesError{Limit: MaxImportBytes})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxImportBytes)
	c.Next()
}

type importedJSON struct {
	Row      int    `json:"row"`
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Assigned bool   `json:"assigned"`
}

type skippedJSON struct {
	Row       int    `json:"row"`
	Reason    string `json:"reason"`
	ProblemID *int64 `json:"problem_id"`
}

type importJSON struct {
	ImportID   *int64         `json:"import_id"`
	FileSHA256 string         `json:"file_sha256"`
	Rows       int            `json:"rows"`
	Created    []importedJSON `json:"created"`
	Skipped    []skippedJSON  `json:"skipped"`
}

// importLedger takes a workbook as the multipart field "file".
func (a *api) importLedger(c *gin.Context) error {
	if err := allowQuery(c); err != nil {
		return err
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return &badRequest{msg: "send the workbook as multipart/form-data, in the field file",
			fields: nil}
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return &badRequest{msg: "the multipart body cannot be read"}
	}
	var (
		res   *app.ImportResult
		found bool
		ans   = typed(importAnswer)
	)
	for {
		part, err := nextPart(mr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if part.FormName() != "file" {
			return invalidField(strings.ToValidUTF8(part.FormName(), "?"), "is not a known field; send only the field file")
		}
		if found {
			return invalidField("file", "send one workbook at a time")
		}
		found = true
		name, err := partFileName(part)
		if err != nil {
			return err
		}
		if res, err = a.svc.Ledger.ImportLedger(c.Request.Context(), answering(c, ans), name, clientBody{part}); err != nil {
			return err
		}
	}
	if !found {
		return invalidField("file", "is required: the .xlsx workbook")
	}
	return reply(c, ans, res)
}

// importAnswer renders an import's result: 201 when it created problems.
func importAnswer(res *app.ImportResult) (response, error) {
	out := importJSON{ImportID: optID(res.ImportID), FileSHA256: res.FileSHA256, Rows: res.Rows,
		Created: []importedJSON{}, Skipped: []skippedJSON{}}
	for _, x := range res.Created {
		out.Created = append(out.Created, importedJSON{Row: x.Row, ID: x.ID, Code: x.Code, Assigned: x.Assigned})
	}
	for _, x := range res.Skipped {
		out.Skipped = append(out.Skipped, skippedJSON{Row: x.Row, Reason: x.Reason, ProblemID: optID(x.ProblemID)})
	}
	status := http.StatusOK
	if len(out.Created) > 0 {
		status = http.StatusCreated
	}
	return jsonAnswer(status, out, nil)
}
