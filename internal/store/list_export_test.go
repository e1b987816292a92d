package store

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/rectify-team/rectify/internal/app"
)

// ListEveryPlan runs the id query of q with every plan the list could
// choose, whatever its guesses: the filter as one walk or (for an owner) as
// its two sides, and for each side every index whose branches it allows. It
// returns each plan's ids under a name for the plan. For the tests: a plan
// the guesses avoid on the test data must be exact too.
func ListEveryPlan(ctx context.Context, db *DB, q app.ProblemQuery) (map[string][]int64, error) {
	repo := problemRepo{base{g: db.gorm, dialect: db.dialect}}
	t, err := repo.listTrees(ctx, q)
	if err != nil {
		return nil, err
	}
	bounds, bargs := createdBounds(q, db.dialect)
	whole, split := listSides(q, t)
	out := map[string][]int64{}
	if q.Text != "" && q.Limit > 0 {
		// The search by each of its terms, read whole and walked in order.
		for i, pr := range queryProbes(q.Text) {
			for _, ordered := range []bool{false, true} {
				if ordered && pr.eq == "" {
					continue
				}
				p := listPlan{sides: []listSide{{preds: listFilter(q, t.lights)}}, branches: []listBranch{{}}, bounds: bounds, bargs: bargs,
					limit: q.Limit, text: &textPlan{probe: pr, ordered: ordered}, before: q.BeforeID}
				var ids []int64
				stmt, args := p.build(db.dialect)
				if err := db.gorm.WithContext(ctx).Raw(stmt, args...).Scan(&ids).Error; err != nil {
					return nil, fmt.Errorf("text plan %d: %w", i, err)
				}
				out[fmt.Sprintf("text %d %+v ordered=%v", i, pr, ordered)] = ids
			}
		}
	}
	for _, sides := range [][]listSide{whole, split} {
		if sides == nil {
			continue
		}
		// Every combination of a usable index per side.
		var walk func(i int, chosen []listIndex) error
		walk = func(i int, chosen []listIndex) error {
			if i == len(sides) {
				p := listPlan{sides: append([]listSide(nil), sides...), bounds: bounds, bargs: bargs, limit: q.Limit}
				names := make([]string, len(sides))
				for j := range p.sides {
					p.sides[j].index = chosen[j]
					names[j] = chosen[j].name
				}
				p.expand()
				var ids []int64
				if stmt, args := p.build(db.dialect); stmt != "" {
					if err := db.gorm.WithContext(ctx).Raw(stmt, args...).Scan(&ids).Error; err != nil {
						return fmt.Errorf("plan %v: %w", names, err)
					}
				}
				out[fmt.Sprintf("%d sides: %s", len(sides), strings.Join(names, " + "))] = ids
				return nil
			}
			for _, ix := range listIndexes {
				if !sides[i].values.none() && math.IsInf(sides[i].cost(ix, t, max(q.Limit, 1), len(bargs)/2), 1) {
					continue
				}
				if err := walk(i+1, append(chosen, ix)); err != nil {
					return err
				}
				if sides[i].values.none() {
					break // no branches whatever the index
				}
			}
			return nil
		}
		if err := walk(0, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PreparedStatements returns the texts of the statements prepared for db's
// pool (prepared.go).
func PreparedStatements(db *DB) []string {
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	var out []string
	for q := range db.stmts.m {
		out = append(out, q)
	}
	return out
}

// ListStatement returns the id query the list runs for q.
func ListStatement(ctx context.Context, db *DB, q app.ProblemQuery) (string, []any, error) {
	repo := problemRepo{base{g: db.gorm, dialect: db.dialect}}
	t, err := repo.listTrees(ctx, q)
	if err != nil {
		return "", nil, err
	}
	stmt, args := planList(q, t, db.dialect).build(db.dialect)
	return stmt, args, nil
}

// TextTerms returns the terms the text search stores for these texts.
func TextTerms(texts ...string) []string { return textTerms(texts...) }

// Lights returns problems.light by problem id, and whether the lights are
// ready for day and yellowDays (lights.go).
func Lights(ctx context.Context, db *DB, day string, yellowDays int) (map[int64]string, bool, error) {
	var rows []struct {
		ID    int64
		Light string
	}
	if err := db.gorm.WithContext(ctx).Raw("SELECT id, light FROM problems").Scan(&rows).Error; err != nil {
		return nil, false, err
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Light
	}
	var ready int
	if err := db.gorm.WithContext(ctx).Raw(lightsReadySQL, day, yellowDays).Row().Scan(&ready); err != nil {
		return nil, false, err
	}
	return out, ready == 1, nil
}
