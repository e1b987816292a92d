package ledger

import (
	"bytes"
	"testing"
	"time"
)

// FuzzParse: whatever is uploaded, the import parser answers rows or a
// ParseError, and never panics.
func FuzzParse(f *testing.F) {
	f.Add(sheetBytes(f, SheetLedger, []any{"问题标题", "类别", "严重程度", "来源", "责任单位"}, []any{"t", "SXZZ-01", "一般", "自查", "一班"}))
	f.Add(sheetBytes(f, "Sheet1", []any{"x"}))
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte("编号,问题标题\n1,2\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		s, err := Parse(bytes.NewReader(body))
		if err == nil {
			for _, r := range s.Rows {
				_ = RowHash(r)
			}
		}
	})
}

// FuzzParseDate: a date cell parses to a real calendar date or is refused.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-02", "2026/3/2", "2026年3月2日", "46083", "46083.5", "0", "2026-02-30", "９"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err == nil && (d.Year() < 1899 || d.Year() > 9999 || d.Hour() != 0 || d.Location() != time.UTC) {
			t.Errorf("ParseDate(%q) = %v", s, d)
		}
	})
}
