package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// DefaultMaxUpload is the largest attachment by default: 20 MiB.
const DefaultMaxUpload = 20 << 20

// multipartOverhead is what an upload's body may hold beyond the file itself:
// boundaries and part headers.
const multipartOverhead = 64 << 10

// routeAttachments registers evidence: uploads on a group of their own, whose
// body limit is the upload limit rather than the JSON one, and the reads on
// the authenticated group.
func (a *api) routeAttachments(r *gin.Engine, auth *gin.RouterGroup) {
	if a.opt.MaxUploadBytes <= 0 {
		a.opt.MaxUploadBytes = DefaultMaxUpload
	}
	up := r.Group("/api/v1", noStore, a.limitUpload, a.authenticate, a.idempotent)
	up.POST("/attachments", a.handle(a.upload))
	auth.GET("/attachments/:id", a.handle(a.download))
	auth.GET("/problems/:id/attachments", a.handle(a.problemAttachments))
}

// limitUpload caps an upload's body: the file limit plus the multipart overhead.
func (a *api) limitUpload(c *gin.Context) {
	limit := a.opt.MaxUploadBytes + multipartOverhead
	if c.Request.ContentLength > limit {
		a.writeError(c, &http.MaxBytesError{Limit: a.opt.MaxUploadBytes})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	c.Next()
}

// fileLimit reads at most limit bytes of the file; one more is a *http.MaxBytesError (413).
type fileLimit struct {
	r     io.Reader
	left  int64
	limit int64
}

func (l *fileLimit) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &http.MaxBytesError{Limit: l.limit}
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return 0, &http.MaxBytesError{Limit: l.limit}
	}
	return n, err
}

type attachmentJSON struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	SHA256      string    `json:"sha256"`
	UploadedBy  int64     `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

func toAttachmentJSON(x *app.Attachment) attachmentJSON {
	return attachmentJSON{ID: x.ID, Name: x.Name, Size: x.Size, ContentType: x.ContentType, SHA256: x.SHA256,
		UploadedBy: x.UploadedBy, CreatedAt: x.CreatedAt}
}

type problemAttachmentJSON struct {
	attachmentJSON
	ProblemID  int64         `json:"problem_id"`
	Action     domain.Action `json:"action"`
	AttachedBy int64         `json:"attached_by"`
	AttachedAt time.Time     `json:"attached_at"`
}

func (a *api) upload(c *gin.Context) error {
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return &badRequest{msg: `the body must be multipart/form-data with the file in the field "file"`}
	}
	// The first part must be the file; anything else is refused, so one part is read.
	part, err := nextPart(mr)
	if errors.Is(err, io.EOF) {
		return invalidField("file", `is required: send the file as the multipart field "file"`)
	}
	if err != nil {
		return err
	}
	if part.FormName() != "file" {
		_ = part.Close()
		return invalidField(strings.ToValidUTF8(part.FormName(), "?"), `is not a known field; send only the multipart field "file"`)
	}
	name, err := partFileName(part)
	if err != nil {
		return err
	}
	if name == "" {
		return invalidField("file", "must be a file part with a file name")
	}
	ans := typed(func(x *app.Attachment) (response, error) {
		return jsonAnswer(http.StatusCreated, toAttachmentJSON(x), map[string]string{
			"Location": "/api/v1/attachments/" + strconv.FormatInt(x.ID, 10)})
	})
	content := &fileLimit{r: clientBody{part}, left: a.opt.MaxUploadBytes, limit: a.opt.MaxUploadBytes}
	x, err := a.svc.Evidence.Upload(c.Request.Context(), answering(c, ans), name, content)
	if err != nil {
		return err
	}
	return reply(c, ans, x)
}

// errBrokenBody is the message of a multipart body that cannot be read.
const errBrokenBody = "the multipart body is malformed or truncated"

// clientErr marks a failure to read the request body as the client's: a
// malformed part header, a truncated or aborted body is a 400, while the end
// of the body and the size limit (413) stay what they are. Whatever the use
// case wraps it in, the error writer finds the mark.
func clientErr(err error) error {
	var (
		tooBig *http.MaxBytesError
		bad    *badRequest
	)
	if err == nil || errors.Is(err, io.EOF) || errors.As(err, &tooBig) || errors.As(err, &bad) {
		return err
	}
	return &badRequest{msg: errBrokenBody, cause: err}
}

// clientBody reads a multipart part, marking its read errors as the client's.
type clientBody struct{ r io.Reader }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	return n, clientErr(err)
}

// nextPart is mr.NextPart with its failures marked as the client's: the
// reader reads nothing but the request body.
func nextPart(mr *multipart.Reader) (*multipart.Part, error) {
	part, err := mr.NextPart()
	return part, clientErr(err)
}

// partFileName is a file part's name; one holding a NUL or a path that
// cleans to nothing is refused rather than guessed at.
func partFileName(part *multipart.Part) (string, error) {
	name := part.FileName()
	if strings.ContainsRune(name, 0) {
		return "", invalidField("file", "the file name holds a NUL byte")
	}
	return name, nil
}

func (a *api) download(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	x, f, err := a.svc.Evidence.OpenAttachment(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	kind := "attachment"
	if domain.InlineType(x.ContentType) {
		kind = "inline"
	}
	// Set here, not among DataFromReader's headers, which never replace one already set.
	c.Header("Content-Security-Policy", "default-src 'none'; sandbox; frame-ancestors 'none'")
	c.DataFromReader(http.StatusOK, x.Size, x.ContentType, f, map[string]string{
		"Content-Disposition":    contentDisposition(kind, x.Name),
		"X-Content-Type-Options": "nosniff",
		"X-Content-SHA256":       x.SHA256,
	})
	return nil
}

func (a *api) problemAttachments(c *gin.Context) error {
	id, err := pathID(c, "id")
	if err != nil {
		return err
	}
	xs, err := a.svc.Evidence.ProblemAttachments(c.Request.Context(), caller(c), id)
	if err != nil {
		return err
	}
	out := listJSON[problemAttachmentJSON]{Items: make([]problemAttachmentJSON, len(xs))}
	for i, x := range xs {
		out.Items[i] = problemAttachmentJSON{attachmentJSON: toAttachmentJSON(&x.Attachment), ProblemID: x.ProblemID,
			Action: x.Action, AttachedBy: x.AttachedBy, AttachedAt: x.AttachedAt}
	}
	c.JSON(http.StatusOK, out)
	return nil
}

// contentDisposition builds a safe Content-Disposition (RFC 6266): an ASCII
// fallback name, and the real name as filename*=UTF-8”… (RFC 8187) when it
// is not plain ASCII, so that Chinese names survive.
func contentDisposition(kind, name string) string {
	var fallback strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' || r == '%' || r == ';' {
			fallback.WriteByte('_')
			continue
		}
		fallback.WriteRune(r)
	}
	if fallback.String() == name {
		return fmt.Sprintf(`%s; filename="%s"`, kind, name)
	}
	return fmt.Sprintf(`%s; filename="%s"; filename*=UTF-8''%s`, kind, fallback.String(), encodeRFC8187(name))
}

// encodeRFC8187 percent-encodes all but attr-char.
func encodeRFC8187(s string) string {
	const attrChar = "!#$&+-.^_`|~"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || strings.IndexByte(attrChar, ch) >= 0 {
			b.WriteByte(ch)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", ch)
	}
	return b.String()
}
