package store

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// EnvListPerfDB names a database prepared by rectify-load (e.g. 1,000,000
// problems) on which BenchmarkListKindsOnLoadData times the list's filter kinds.
const EnvListPerfDB = "RECTIFY_LIST_PERF_DB"

// loadData is what the load tool's list workload picks its filters from.
type loadData struct {
	depts, teams []string // unit paths
	owners       []app.Scope
	cats         []string // leaf category paths
	words        []string // the load tool's titles, each a common word to search for
	loc          *time.Location
	today        domain.Date
	rng          *rand.Rand
}

func openLoadData(t testing.TB) (*DB, *loadData) {
	t.Helper()
	url := os.Getenv(EnvListPerfDB)
	if url == "" {
		t.Skip(EnvListPerfDB + " is not set")
	}
	db, err := Open(context.Background(), url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	d := &loadData{rng: rand.New(rand.NewPCG(1, 2))}
	var paths []string
	if err := db.gorm.Raw("SELECT path FROM units ORDER BY id").Scan(&paths).Error; err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		switch strings.Count(p, "/") {
		case 3:
			d.depts = append(d.depts, p)
		case 4:
			d.teams = append(d.teams, p)
		}
	}
	var owners []struct {
		ID   int64
		Path string
	}
	if err := db.gorm.Raw("SELECT s.id, u.path FROM users s JOIN units u ON u.id = s.unit_id WHERE s.username LIKE 'load-owner-%' ORDER BY s.id").
		Scan(&owners).Error; err != nil {
		t.Fatal(err)
	}
	for _, o := range owners {
		d.owners = append(d.owners, app.Scope{UserID: o.ID, UnitPath: o.Path})
	}
	if err := db.gorm.Raw("SELECT c.path FROM categories c WHERE NOT EXISTS (SELECT 1 FROM categories d WHERE d.parent_id = c.id) ORDER BY c.id").
		Scan(&d.cats).Error; err != nil {
		t.Fatal(err)
	}
	var titles []string
	if err := db.gorm.Raw("SELECT title FROM problems ORDER BY id LIMIT 30").Scan(&titles).Error; err != nil {
		t.Fatal(err)
	}
	for _, title := range titles { // "守摊思想（负载 0）": the load tool's title and a number
		if w, _, _ := strings.Cut(title, "（"); !slices.Contains(d.words, w) {
			d.words = append(d.words, w)
		}
	}
	if len(d.depts) == 0 || len(d.teams) == 0 || len(d.owners) == 0 || len(d.words) == 0 {
		t.Fatalf("%s holds no load data: prepare it with rectify-load prepare", EnvListPerfDB)
	}
	if d.loc, err = time.LoadLocation("Asia/Shanghai"); err != nil {
		d.loc = time.UTC
	}
	d.today = domain.DateOf(time.Now(), d.loc)
	return db, d
}

// query returns a filter of the given kind ("owner:" first for an owner's
// scope) with random parameters as the load tool draws them.
func (d *loadData) query(kind string) app.ProblemQuery {
	rng := d.rng
	q := app.ProblemQuery{Scope: app.Scope{All: true}, Today: d.today, YellowDays: 3, Limit: 51}
	if k, ok := strings.CutPrefix(kind, "owner:"); ok {
		kind, q.Scope = k, d.owners[rng.IntN(len(d.owners))]
	}
	statuses := []domain.Status{domain.StatusRegistered, domain.StatusAssigned, domain.StatusRectifying, domain.StatusSubmitted, domain.StatusClosed}
	switch kind {
	case "status":
		q.Statuses = []domain.Status{statuses[rng.IntN(len(statuses))]}
	case "status+severity":
		q.Statuses = []domain.Status{statuses[rng.IntN(len(statuses))]}
		q.Severities = []domain.Severity{[]domain.Severity{domain.SeverityGeneral, domain.SeveritySerious, domain.SeverityCritical}[rng.IntN(3)]}
	case "source":
		q.Sources = []domain.Source{domain.Sources()[rng.IntN(len(domain.Sources()))]}
	case "unit-subtree":
		q.UnitPath = d.depts[rng.IntN(len(d.depts))]
	case "category":
		q.CategoryPath = d.cats[rng.IntN(len(d.cats))]
	case "overdue":
		yes := true
		q.Overdue = &yes
	case "warning":
		q.Warnings = []domain.WarningLevel{[]domain.WarningLevel{domain.WarningRed, domain.WarningYellow, domain.WarningGreen}[rng.IntN(3)]}
	case "red", "yellow", "green":
		q.Warnings = []domain.WarningLevel{domain.WarningLevel(kind)}
	case "created-month":
		m := time.Now().AddDate(0, -rng.IntN(12), 0)
		first := time.Date(m.Year(), m.Month(), 1, 0, 0, 0, 0, time.UTC)
		from, _ := time.ParseInLocation(time.DateOnly, first.Format(time.DateOnly), d.loc)
		to, _ := time.ParseInLocation(time.DateOnly, first.AddDate(0, 1, -1).Format(time.DateOnly), d.loc)
		q.CreatedFrom, q.CreatedTo = from, to.AddDate(0, 0, 1)
	case "status+team":
		q.Statuses = []domain.Status{domain.StatusRectifying}
		q.UnitPath = d.teams[rng.IntN(len(d.teams))]
	case "q-title":
		q.Text = d.words[rng.IntN(len(d.words))]
	}
	return q
}

var loadKinds = []string{"status", "status+severity", "source", "q-title", "unit-subtree", "category", "overdue", "warning", "created-month", "status+team"}

// BenchmarkListKindsOnLoadData times a page of the list for each kind of
// filter the load tool draws, on a database prepared by rectify-load, and
// reports each kind's p50 and p99 beside the mean, and the indexes its plans
// walked:
//
//	RECTIFY_LIST_PERF_DB='mysql:root@tcp(127.0.0.1:3306)/rectify_perf_list' \
//	  go test -run '^$' -bench ListKindsOnLoadData -benchtime 40x ./internal/store/
//
// RECTIFY_LIST_PERF_KINDS other kinds (e.g. red,yellow,green);
// RECTIFY_LIST_PERF_IDS=1 times the id query alone; RECTIFY_LIST_PERF_SQL=1
// logs one id query per kind with its arguments inlined, to EXPLAIN or
// ANALYZE in the mariadb client. Without RECTIFY_LIST_PERF_DB there is no
// data set to measure and it is skipped, like the million-problem board bench.
func BenchmarkListKindsOnLoadData(b *testing.B) {
	db, d := openLoadData(b)
	ctx := context.Background()
	repo := problemRepo{base{g: db.gorm, dialect: db.dialect}}
	kinds := loadKinds
	if v := os.Getenv("RECTIFY_LIST_PERF_KINDS"); v != "" {
		kinds = strings.Split(v, ",")
	}
	idsOnly := os.Getenv("RECTIFY_LIST_PERF_IDS") != ""
	for _, prefix := range []string{"", "owner:"} {
		for _, kind := range kinds {
			b.Run(prefix+kind, func(b *testing.B) {
				var took []time.Duration
				indexes := map[string]int{}
				for b.Loop() {
					q := d.query(prefix + kind)
					trees, err := repo.listTrees(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					plan := planList(q, trees, db.dialect)
					for _, br := range plan.branches {
						indexes[strings.TrimPrefix(plan.sides[br.side].index.name, "idx_problems_")]++
					}
					start := time.Now()
					if idsOnly {
						stmt, args := plan.build(db.dialect)
						var ids []int64
						if err := db.gorm.Raw(stmt, args...).Scan(&ids).Error; err != nil {
							b.Fatal(err)
						}
					} else if _, err := repo.List(ctx, q); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				slices.Sort(took)
				at := func(f float64) float64 {
					return float64(took[min(len(took)-1, int(f*float64(len(took))))].Microseconds()) / 1000
				}
				b.ReportMetric(at(0.5), "p50-ms")
				b.ReportMetric(at(0.99), "p99-ms")
				b.Logf("branches %v", indexes)
				if os.Getenv("RECTIFY_LIST_PERF_SQL") != "" {
					q := d.query(prefix + kind)
					trees, err := repo.listTrees(ctx, q)
					if err != nil {
						b.Fatal(err)
					}
					stmt, args := planList(q, trees, db.dialect).build(db.dialect)
					tx := db.gorm.Session(&gorm.Session{DryRun: true}).Raw(stmt, args...)
					b.Log(db.gorm.Explain(tx.Statement.SQL.String(), tx.Statement.Vars...) + ";")
				}
			})
		}
	}
}
