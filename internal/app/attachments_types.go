package app

import (
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Audit actions and object type of evidence.
const (
	ActionAttachmentUpload = "attachment_upload"
	ObjectAttachment       = "attachment"
)

// MaxFileName is the longest file name kept, in characters.
const MaxFileName = 255

// CleanFileName keeps the last element of a client's file name, without
// control characters or path separators, at most MaxFileName characters. It
// is only a label: contents are stored under their hash.
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "" || name == "." || name == ".." {
		return "file"
	}
	if utf8.RuneCountInString(name) > MaxFileName {
		ext := path.Ext(name)
		if utf8.RuneCountInString(ext) > 16 {
			ext = ""
		}
		r := []rune(strings.TrimSuffix(name, ext))
		name = string(r[:MaxFileName-utf8.RuneCountInString(ext)]) + ext
	}
	return name
}

// OrphanGrace is how old a stored content must be before the collector may
// remove it: an upload stores its content before the transaction that records
// it, and a slow transaction must not find its file gone.
const OrphanGrace = time.Hour
