package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"
)

// The text search's index: problem_terms holds, for each problem, the terms
// of its title, description and code, lower-cased rune by rune:
//
//   - every pair of adjacent characters without white space (a bigram), so
//     that any text of two characters or more, Chinese included, has terms
//     every problem containing it has too;
//   - every suffix of three characters or more (at most termMaxLen) of each
//     run of ASCII letters and digits, so that a code, a piece of a code or a
//     word is a prefix range of a few terms where its bigrams ("20", "00")
//     are in every problem.
//
// A search reads the problems of its rarest term and checks each with the
// list's exact substring filter, so the terms only ever narrow the rows read:
// a problem the filter matches always has the query's terms. A query with no
// term (one character) reads the table as before.

const (
	termMaxLen = 32
	// termCap bounds how many postings a query's terms are counted to: a
	// term under it is read whole and sorted; over it, walked in id order.
	termCap = 500
	// termRangeCap bounds how far the prefix ranges of a query's runs of
	// letters and digits are counted when every term is over termCap: a
	// piece of a code ("2026-4204") has a range of a few hundred postings
	// where its bigrams ("20", "42") are in every code, and a range under
	// it is read whole rather than a bigram walked.
	termRangeCap = 10000
	// termMaxProbes bounds the terms of a query counted.
	termMaxProbes = 6
	// termBatch is how many terms one INSERT carries (fewer on SQLite, whose
	// pure-Go driver binds parameters in time quadratic in their number).
	termBatch       = 2000
	termBatchSQLite = 400
)

func lowerRunes(s string) []rune {
	rs := []rune(s)
	for i, r := range rs {
		rs[i] = unicode.ToLower(r)
	}
	return rs
}

func isASCIIWord(r rune) bool {
	return r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z')
}

// textTerms returns the distinct terms of the texts.
func textTerms(texts ...string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, s := range texts {
		rs := lowerRunes(s)
		for i := 0; i+1 < len(rs); i++ {
			if !unicode.IsSpace(rs[i]) && !unicode.IsSpace(rs[i+1]) {
				add(string(rs[i : i+2]))
			}
		}
		for i := 0; i < len(rs); {
			if !isASCIIWord(rs[i]) {
				i++
				continue
			}
			j := i
			for j < len(rs) && isASCIIWord(rs[j]) {
				j++
			}
			for k := i; j-k >= 3; k++ {
				add(string(rs[k:min(j, k+termMaxLen)]))
			}
			i = j
		}
	}
	return out
}

// termProbe is one term condition of a query: a bigram (eq) or the prefix
// range of a run of ASCII letters and digits.
type termProbe struct {
	eq     string
	lo, hi string
}

func (t termProbe) cond() (string, []any) {
	if t.eq != "" {
		return "t.term = ?", []any{t.eq}
	}
	return "t.term >= ? AND t.term < ?", []any{t.lo, t.hi}
}

// queryProbes returns the term conditions every problem containing text
// passes: the prefix ranges of its ASCII runs first, then its bigrams,
// those with a character outside ASCII first (rarer), at most termMaxProbes.
func queryProbes(text string) []termProbe {
	rs := lowerRunes(text)
	var ranges, wide, narrow []termProbe
	seen := map[string]bool{}
	for i := 0; i < len(rs); {
		if !isASCIIWord(rs[i]) {
			i++
			continue
		}
		j := i
		for j < len(rs) && isASCIIWord(rs[j]) {
			j++
		}
		if j-i >= 3 {
			// A run of the query lies inside a run of the text, so some stored
			// suffix of it begins with the run (its first termMaxLen).
			lo := string(rs[i:min(j, i+termMaxLen)])
			hi := lo[:len(lo)-1] + string(rune(lo[len(lo)-1]+1)) // ASCII: the next byte
			if !seen["r"+lo] {
				seen["r"+lo] = true
				ranges = append(ranges, termProbe{lo: lo, hi: hi})
			}
		}
		i = j
	}
	for i := 0; i+1 < len(rs); i++ {
		if unicode.IsSpace(rs[i]) || unicode.IsSpace(rs[i+1]) {
			continue
		}
		b := string(rs[i : i+2])
		if seen["b"+b] {
			continue
		}
		seen["b"+b] = true
		if rs[i] >= utf8.RuneSelf || rs[i+1] >= utf8.RuneSelf {
			wide = append(wide, termProbe{eq: b})
		} else {
			narrow = append(narrow, termProbe{eq: b})
		}
	}
	all := append(append(ranges, wide...), narrow...)
	return all[:min(len(all), termMaxProbes)]
}

// textPlan is how a page reads the problems of a text search: the postings
// of one term condition, read whole and sorted when few (counted under
// termCap, or a range under termRangeCap when every term is over termCap),
// or walked newest first when they are one bigram's many.
type textPlan struct {
	probe   termProbe
	ordered bool
}

// textPlanFor counts the postings of the query's terms, up to termCap each,
// and chooses the rarest; when none is under termCap, the rarest range under
// termRangeCap, or else a bigram to walk; nil when the query has no term.
func (r problemRepo) textPlanFor(ctx context.Context, text string) (*textPlan, error) {
	probes := queryProbes(text)
	if len(probes) == 0 {
		return nil, nil
	}
	counts, err := r.countPostings(ctx, probes, termCap)
	if err != nil {
		return nil, err
	}
	plan := chooseTextPlan(probes, counts)
	if plan != nil && !plan.ordered {
		return plan, nil
	}
	var ranges []termProbe
	for _, pr := range probes {
		if pr.eq == "" {
			ranges = append(ranges, pr)
		}
	}
	if len(ranges) == 0 {
		return plan, nil
	}
	if counts, err = r.countPostings(ctx, ranges, termRangeCap); err != nil {
		return nil, err
	}
	if best, n := rarest(len(ranges), counts); n < termRangeCap {
		return &textPlan{probe: ranges[best]}, nil
	}
	return plan, nil
}

// rarest returns which of the counted probes has the fewest postings, and
// how many it has.
func rarest(probes int, counts []termCount) (int, int) {
	n := make([]int, probes)
	for _, c := range counts {
		n[c.K] = c.N
	}
	best := 0
	for i := range n {
		if n[i] < n[best] {
			best = i
		}
	}
	return best, n[best]
}

// termCount is how many postings probe K has, counted up to a cap.
type termCount struct{ K, N int }

// countPostings counts the postings of each probe, up to limit each, in
// one statement.
func (r problemRepo) countPostings(ctx context.Context, probes []termProbe, limit int) ([]termCount, error) {
	parts := make([]string, len(probes))
	var args []any
	for i, pr := range probes {
		c, a := pr.cond()
		parts[i] = "SELECT " + strconv.Itoa(i) + " AS k, COUNT(*) AS n FROM (SELECT 1 AS x FROM problem_terms t WHERE " + c +
			" LIMIT " + strconv.Itoa(limit) + ") c" + strconv.Itoa(i)
		args = append(args, a...)
	}
	ctx, cancel := r.bounded(ctx)
	defer cancel()
	var counts []termCount
	if err := r.db(ctx).Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&counts).Error; err != nil {
		return nil, markUnavailable(err)
	}
	return counts, nil
}

func chooseTextPlan(probes []termProbe, counts []termCount) *textPlan {
	if best, n := rarest(len(probes), counts); n < termCap {
		return &textPlan{probe: probes[best]}
	}
	// Every term is common: walk a bigram's postings in id order (the
	// first, with a character outside ASCII when there is one).
	for _, pr := range probes {
		if pr.eq != "" {
			return &textPlan{probe: pr, ordered: true}
		}
	}
	return nil
}

// writeTerms inserts the terms of problem id, termBatch a statement.
func (b base) writeTerms(ctx context.Context, id int64, terms []string) error {
	return b.insertTerms(ctx, []int64{id}, [][]string{terms})
}

// insertTerms inserts the terms of many problems, termBatch a statement;
// a term already there is kept.
func (b base) insertTerms(ctx context.Context, ids []int64, terms [][]string) error {
	total := 0
	for _, ts := range terms {
		total += len(ts)
	}
	batch := min(b.dia().termBatch(), total) // a registration's forty, not a bulk load's two thousand
	var sb strings.Builder
	sb.Grow(6 * batch)
	args := make([]any, 0, 2*batch)
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		_, err := b.exec(ctx, b.dia().insertIgnore("INSERT INTO problem_terms (term, problem_id) VALUES "+sb.String()), args...)
		sb.Reset()
		args = args[:0]
		if err != nil {
			return fmt.Errorf("problem terms: %w", err)
		}
		return nil
	}
	for i, id := range ids {
		for _, t := range terms[i] {
			if len(args) > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?)")
			args = append(args, t, id)
			if len(args) == 2*batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

// retextTerms brings the terms of problem id from those of its old texts to
// those of its new: only the difference is written.
func (b base) retextTerms(ctx context.Context, id int64, old, new []string) error {
	var gone []string
	for _, t := range old {
		if !slices.Contains(new, t) {
			gone = append(gone, t)
		}
	}
	var added []string
	for _, t := range new {
		if !slices.Contains(old, t) {
			added = append(added, t)
		}
	}
	for start := 0; start < len(gone); start += termBatchSQLite {
		if err := b.db(ctx).Exec("DELETE FROM problem_terms WHERE problem_id = ? AND term IN ?", id,
			gone[start:min(len(gone), start+termBatchSQLite)]).Error; err != nil {
			return fmt.Errorf("problem terms: %w", err)
		}
	}
	return b.writeTerms(ctx, id, added)
}

// backfillTerms gives the problems that were there before problem_terms
// their terms, newest first, a thousand at a time, each batch in a
// transaction that also moves problem_terms_backfill's mark below it: once
// at the migration, resumed where it stopped if interrupted.
func (db *DB) backfillTerms(ctx context.Context) error {
	b := base{g: db.gorm, dialect: db.dialect}
	for {
		var upto int64
		if err := db.gorm.WithContext(ctx).Raw("SELECT upto FROM problem_terms_backfill").Row().Scan(&upto); err != nil {
			return fmt.Errorf("problem terms backfill: %w", err)
		}
		if upto <= 0 {
			return nil
		}
		var rows []struct {
			ID                       int64
			Title, Description, Code string
		}
		if err := db.gorm.WithContext(ctx).Raw("SELECT id, title, description, code FROM problems WHERE id <= ? ORDER BY id DESC LIMIT 1000",
			upto).Scan(&rows).Error; err != nil {
			return fmt.Errorf("problem terms backfill: %w", err)
		}
		next := int64(0)
		if len(rows) == 1000 {
			next = rows[len(rows)-1].ID - 1
		}
		ids := make([]int64, len(rows))
		terms := make([][]string, len(rows))
		for i, row := range rows {
			ids[i], terms[i] = row.ID, textTerms(row.Title, row.Description, row.Code)
		}
		err := db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			tb := b
			tb.g = tx
			if err := tb.insertTerms(ctx, ids, terms); err != nil {
				return err
			}
			return tx.Exec("UPDATE problem_terms_backfill SET upto = ?", next).Error
		})
		if err != nil {
			return fmt.Errorf("problem terms backfill: %w", err)
		}
		if next == 0 {
			db.log.Info("problem terms backfilled")
		}
	}
}
