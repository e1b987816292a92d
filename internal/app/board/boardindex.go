package board

import (
	"context"
	"fmt"
	"github.com/rectify-team/rectify/internal/app"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/stats"
)

// boardRefreshMargin is how far before the previous refresh's clock reading a
// refresh reads again, for changes that committed late, when the bound of a
// transaction is not known: the largest database timeout the configuration
// allows (10 minutes) and more.
const boardRefreshMargin = 15 * time.Minute

// boardClockSlack is what the margin adds to the bound of a transaction: the
// commit's own time after the attempt's deadline, and instances' clocks apart.
const boardClockSlack = time.Minute

// refreshMargin is the margin for transactions bounded by txWithin (0: unknown).
func refreshMargin(txWithin time.Duration) time.Duration {
	if txWithin <= 0 {
		return boardRefreshMargin
	}
	return txWithin + boardClockSlack
}

// boardPage is how many problems one read of the full load takes.
const boardPage = 20000

// boardRecord is one problem in the index. Instants are Unix seconds (0:
// none); deadlines are days since 1970-01-01 (0: none).
type boardRecord struct {
	id         int64
	assignee   int64
	unit       int32
	category   int32
	created    uint32
	updated    uint32
	assigned   uint32
	submitted  uint32
	closed     uint32
	deadline   int32
	milestone  int32 // the earliest milestone not done; 0: none
	status     uint8
	severity   uint8
	source     uint8
	onTime     int8  // -1: no closure; 0: late; 1: on time
	reworks    uint8 // counts saturate at 255: the board asks "any?", and extensions are at most 20 each
	reopens    uint8
	extensions uint8
	version    uint32 // the problem's version: the refresh reads again what moved
}

var (
	statusIndex   = indexOf(domain.Statuses())
	severityIndex = indexOf(domain.Severities())
	sourceIndex   = indexOf(domain.Sources())
)

func indexOf[T comparable](xs []T) map[T]uint8 {
	m := make(map[T]uint8, len(xs))
	for i, x := range xs {
		m[x] = uint8(i)
	}
	return m
}

func unixSeconds(t *time.Time) uint32 {
	if t == nil || t.IsZero() || t.Unix() <= 0 {
		return 0
	}
	return uint32(min(t.Unix(), 1<<32-1))
}

// dayNumber is a date as days since 1970-01-01; 0 for none.
func dayNumber(d domain.Date) int32 {
	if d.IsZero() {
		return 0
	}
	return int32(domain.NewDate(1970, time.January, 1).DaysUntil(d))
}

func toRecord(r app.BoardRow) boardRecord {
	rec := boardRecord{id: r.ID, assignee: r.AssigneeID, unit: int32(r.UnitID), category: int32(r.CategoryID),
		created: unixSeconds(&r.CreatedAt), updated: unixSeconds(&r.UpdatedAt), assigned: unixSeconds(r.AssignedAt),
		submitted: unixSeconds(r.SubmittedAt), closed: unixSeconds(r.ClosedAt), deadline: dayNumber(r.Deadline),
		milestone: dayNumber(r.MilestoneDue),
		status:    statusIndex[r.Status], severity: severityIndex[r.Severity], source: sourceIndex[r.Source], onTime: -1,
		reworks: uint8(min(r.ReworkCount, 255)), reopens: uint8(min(r.ReopenCount, 255)),
		extensions: uint8(min(r.ExtensionCount, 255)), version: uint32(min(r.Version, 1<<32-1))}
	if r.ClosedOnTime != nil {
		rec.onTime = 0
		if *r.ClosedOnTime {
			rec.onTime = 1
		}
	}
	return rec
}

func (r *boardRecord) statusIs(s domain.Status) bool { return r.status == statusIndex[s] }

func (r *boardRecord) open() bool {
	return r.statusIs(domain.StatusAssigned) || r.statusIs(domain.StatusRectifying) || r.statusIs(domain.StatusSubmitted)
}

// boardIndex is the copy. The zero value is ready; it loads on first use.
type boardIndex struct {
	mu      sync.RWMutex
	loaded  bool
	records []boardRecord    // by id
	probed  time.Time        // the clock just before the latest refresh or load read the database
	margin  time.Duration    // how far before probed a refresh reads again (refreshMargin); 0: boardRefreshMargin
	clock   func() time.Time // nil: time.Now
	gen     uint64           // counts the refreshes that changed a Record
	refresh sync.Mutex       // one refresher at a time

	// Refreshes are numbered as they start; done is the number of the last
	// that finished. A read that arrives while one runs waits for it and then
	// refreshes only if no refresh that started after its arrival finished.
	started atomic.Uint64
	done    uint64 // under refresh

	// The overview's totals by filter, valid while gen stays (overviewSums).
	cacheMu  sync.Mutex
	cache    map[string]*boardSums
	cacheGen uint64
}

// index brings the copy up to date and returns it read-locked; call the
// returned function to unlock.
func (s *Service) index(ctx context.Context) (*boardIndex, func(), error) {
	b := &s.board
	if err := b.update(ctx, s.store.Read().Stats); err != nil {
		return nil, nil, err
	}
	b.mu.RLock()
	return b, b.mu.RUnlock, nil
}

// WarmBoard loads the board's index ahead of the first request that needs it.
func (s *Service) WarmBoard(ctx context.Context) error {
	return s.board.update(ctx, s.store.Read().Stats)
}

func (b *boardIndex) update(ctx context.Context, repo app.StatsRepo) error {
	arrived := b.started.Load()
	b.refresh.Lock()
	defer b.refresh.Unlock()
	if b.done > arrived {
		// A refresh that started after this read arrived has finished: it saw
		// every change committed before the arrival. Concurrent readers share
		// one probe instead of queueing one each.
		return nil
	}
	seq := b.started.Add(1)
	if err := b.refreshLocked(ctx, repo); err != nil {
		return err
	}
	b.done = seq
	return nil
}

// now reads the index's clock.
func (b *boardIndex) now() time.Time {
	if b.clock != nil {
		return b.clock()
	}
	return time.Now()
}

// refreshLocked brings the copy up to date; the caller holds refresh.
func (b *boardIndex) refreshLocked(ctx context.Context, repo app.StatsRepo) error {
	b.mu.RLock()
	loaded, probed := b.loaded, b.probed
	b.mu.RUnlock()
	if !loaded {
		return b.load(ctx, repo)
	}
	margin := b.margin
	if margin <= 0 {
		margin = boardRefreshMargin
	}
	// Every change the previous read missed committed after it began, so
	// after probed: its clock reading is at most a margin before that.
	since := probed.Add(-margin)
	now := b.now()
	// Probe the recent problems' versions (an index alone answers it) and
	// read again only those the copy does not hold at that version: a busy
	// margin (thousands of recent changes) costs a scan of small index
	// entries, not thousands of rows and milestone lookups, on every read.
	versions, err := repo.BoardVersions(ctx, since)
	if err != nil {
		return err
	}
	var stale []int64
	b.mu.RLock()
	for _, v := range versions {
		if rec, ok := b.get(v.ID); !ok || rec.version != uint32(v.Version) {
			stale = append(stale, v.ID)
		}
	}
	b.mu.RUnlock()
	var rows []app.BoardRow
	for chunk := range slices.Chunk(stale, boardRefreshChunk) {
		got, err := repo.BoardRows(ctx, app.BoardRowsQuery{IDs: chunk})
		if err != nil {
			return err
		}
		rows = append(rows, got...)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	changed := false
	for _, r := range rows {
		if b.put(toRecord(r)) {
			changed = true
		}
	}
	b.probed = now
	if changed {
		b.gen++
	}
	return nil
}

// boardRefreshChunk is how many changed problems one refresh query reads.
const boardRefreshChunk = 500

// load reads every problem, page by page, without holding the lock readers
// wait on. A change to a page already read commits after the clock reading
// taken first, so the next refresh finds it.
func (b *boardIndex) load(ctx context.Context, repo app.StatsRepo) error {
	var (
		records []boardRecord
		after   int64
	)
	now := b.now()
	for {
		rows, err := repo.BoardRows(ctx, app.BoardRowsQuery{AfterID: after, Limit: boardPage})
		if err != nil {
			return err
		}
		for _, r := range rows {
			records = append(records, toRecord(r))
		}
		if len(rows) < boardPage {
			break
		}
		after = rows[len(rows)-1].ID
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records, b.probed, b.loaded = slices.Clip(records), now, true
	b.gen++
	return nil
}

// put inserts or replaces a Record, keeping the id order, and reports whether
// the index changed.
func (b *boardIndex) put(rec boardRecord) bool {
	n := len(b.records)
	if n == 0 || b.records[n-1].id < rec.id {
		b.records = append(b.records, rec)
		return true
	}
	i := sort.Search(n, func(i int) bool { return b.records[i].id >= rec.id })
	if i < n && b.records[i].id == rec.id {
		if b.records[i] == rec {
			return false // re-read within the refresh margin, unchanged
		}
		b.records[i] = rec
		return true
	}
	b.records = slices.Insert(b.records, i, rec) // an id that committed after a larger one
	return true
}

// boardSums are the overview's totals of one filter and day, with the days to
// close worked out once; shared by the requests that hit the cache: read only.
type boardSums struct {
	*boardTotals
	avgDaysToClose, p90DaysToClose *float64
}

// maxCachedSums bounds the overview cache: distinct filters of one generation.
const maxCachedSums = 256

// overviewSums returns the overview's totals for the match on a day, computed
// once per generation of the index: while no problem changed, every request
// with the same filter and scope on the same day reads the same figures, so
// they are not counted again over every problem. Call it read-locked.
func (b *boardIndex) overviewSums(m *boardMatch, today, yellowEnd domain.Date) *boardSums {
	key := m.key() + today.String() + yellowEnd.String()
	b.cacheMu.Lock()
	if b.cacheGen != b.gen || len(b.cache) >= maxCachedSums {
		b.cache, b.cacheGen = map[string]*boardSums{}, b.gen
	}
	if hit, ok := b.cache[key]; ok {
		b.cacheMu.Unlock()
		return hit
	}
	b.cacheMu.Unlock()
	t := b.totals(m, today, yellowEnd)
	sums := &boardSums{boardTotals: t}
	if n := len(t.closeSeconds); n > 0 {
		var sum int64
		for _, x := range t.closeSeconds {
			sum += x
		}
		avg := stats.Round(float64(sum)/float64(n)/86400, 2)
		p90 := stats.Round(float64(p90Seconds(t.closeSeconds))/86400, 2)
		sums.avgDaysToClose, sums.p90DaysToClose = &avg, &p90
	}
	b.cacheMu.Lock()
	if b.cacheGen == b.gen { // the read lock held since: still this generation
		b.cache[key] = sums
	}
	b.cacheMu.Unlock()
	return sums
}

func (b *boardIndex) get(id int64) (boardRecord, bool) {
	i := sort.Search(len(b.records), func(i int) bool { return b.records[i].id >= id })
	if i < len(b.records) && b.records[i].id == id {
		return b.records[i], true
	}
	return boardRecord{}, false
}

// boardMatch decides which records a board filter keeps.
type boardMatch struct {
	all        bool
	user       int64
	scopeUnits []bool // units in the caller's subtree, by id
	units      []bool // units in the filter's subtree; nil: any
	categories []bool // categories in the filter's subtree; nil: any
	severities [8]bool
	anySev     bool
	sources    [8]bool
	anySrc     bool
	from, to   uint32 // registration bounds in Unix seconds; to exclusive; 0: open
}

// key spells the match out, for the overview cache.
func (m *boardMatch) key() string {
	var k strings.Builder
	fmt.Fprintf(&k, "%t/%d/%d-%d/%t%v/%t%v/", m.all, m.user, m.from, m.to, m.anySev, m.severities, m.anySrc, m.sources)
	for _, set := range [][]bool{m.scopeUnits, m.units, m.categories} {
		if set == nil {
			k.WriteString("*")
		}
		for id, in := range set {
			if in {
				fmt.Fprintf(&k, "%d,", id)
			}
		}
		k.WriteString("/")
	}
	return k.String()
}

// subtree marks the ids whose path starts with root.
func subtree(paths map[int64]string, root string) []bool {
	var maxID int64
	for id := range paths {
		maxID = max(maxID, id)
	}
	out := make([]bool, maxID+1)
	for id, p := range paths {
		out[id] = domain.InSubtree(p, root)
	}
	return out
}

func (s *Service) boardMatch(ctx context.Context, f app.BoardFilter) (boardMatch, error) {
	m := boardMatch{all: f.Scope.All, user: f.Scope.UserID, anySev: len(f.Severities) == 0, anySrc: len(f.Sources) == 0}
	r := s.store.Read()
	if !f.Scope.All && f.Scope.UnitPath != "" || f.UnitPath != "" {
		units, err := r.Units.List(ctx)
		if err != nil {
			return m, err
		}
		paths := map[int64]string{}
		for _, u := range units {
			paths[u.ID] = u.Path
		}
		if !f.Scope.All && f.Scope.UnitPath != "" {
			m.scopeUnits = subtree(paths, f.Scope.UnitPath)
		}
		if f.UnitPath != "" {
			m.units = subtree(paths, f.UnitPath)
		}
	}
	if f.CategoryPath != "" {
		cats, err := r.Categories.List(ctx)
		if err != nil {
			return m, err
		}
		paths := map[int64]string{}
		for _, c := range cats {
			paths[c.ID] = c.Path
		}
		m.categories = subtree(paths, f.CategoryPath)
	}
	for _, sv := range f.Severities {
		m.severities[severityIndex[sv]] = true
	}
	for _, src := range f.Sources {
		m.sources[sourceIndex[src]] = true
	}
	if !f.CreatedFrom.IsZero() {
		m.from = unixSeconds(&f.CreatedFrom)
		if f.CreatedFrom.Nanosecond() > 0 { // instants are kept in whole seconds
			m.from++
		}
	}
	if !f.CreatedTo.IsZero() {
		m.to = unixSeconds(&f.CreatedTo)
		if f.CreatedTo.Nanosecond() > 0 {
			m.to++
		}
	}
	return m, nil
}

func has(set []bool, id int32) bool { return id >= 0 && int(id) < len(set) && set[id] }

func (m *boardMatch) keep(r *boardRecord) bool {
	if !m.all && r.assignee != m.user && !has(m.scopeUnits, r.unit) {
		return false
	}
	if m.units != nil && !has(m.units, r.unit) {
		return false
	}
	if m.categories != nil && !has(m.categories, r.category) {
		return false
	}
	if !m.anySev && !m.severities[r.severity] || !m.anySrc && !m.sources[r.source] {
		return false
	}
	if m.from != 0 && r.created < m.from || m.to != 0 && r.created >= m.to {
		return false
	}
	return true
}

// boardTotals is what one pass over the index gathers for the board.
type boardTotals struct {
	byStatus   [6]int64 // by the order of domain.Statuses()
	bySeverity [3]int64
	bySource   [5]int64
	byUnit     map[int64]app.NodeCount // direct, not yet rolled up
	byCategory map[int64]app.NodeCount

	overdue, yellow, openGreen, closedOnTime, closedLate int64
	reworked, verified, everClosed, reopened, extensions int64
	closeSeconds                                         []int64
}

// totals walks the index once for the board.
func (b *boardIndex) totals(m *boardMatch, today, yellowEnd domain.Date) *boardTotals {
	t := &boardTotals{byUnit: map[int64]app.NodeCount{}, byCategory: map[int64]app.NodeCount{}}
	td, ye := dayNumber(today), dayNumber(yellowEnd)
	closed, dismissed := statusIndex[domain.StatusClosed], statusIndex[domain.StatusDismissed]
	type line struct{ total, closed, dismissed, overdue int64 }
	units, cats := map[int32]*line{}, map[int32]*line{}
	for i := range b.records {
		r := &b.records[i]
		if !m.keep(r) {
			continue
		}
		t.byStatus[r.status]++
		t.bySeverity[r.severity]++
		t.bySource[r.source]++
		u, c := units[r.unit], cats[r.category]
		if u == nil {
			u = &line{}
			units[r.unit] = u
		}
		if c == nil {
			c = &line{}
			cats[r.category] = c
		}
		u.total++
		c.total++
		isClosed := r.status == closed
		switch {
		case isClosed:
			u.closed++
			c.closed++
			switch r.onTime {
			case 1:
				t.closedOnTime++
			case 0:
				t.closedLate++
			}
			if r.closed != 0 && r.created != 0 && r.closed >= r.created {
				t.closeSeconds = append(t.closeSeconds, int64(r.closed)-int64(r.created))
			}
		case r.status == dismissed:
			u.dismissed++
			c.dismissed++
		case r.open() && r.deadline != 0:
			switch {
			case r.deadline < td:
				t.overdue++
				u.overdue++
				c.overdue++
			case r.deadline <= ye, r.milestone != 0 && r.milestone < td: // near the deadline, or behind the plan
				t.yellow++
			default:
				t.openGreen++
			}
		}
		if r.reworks > 0 {
			t.reworked++
		}
		if isClosed || r.reworks > 0 || r.reopens > 0 {
			t.verified++
		}
		if isClosed || r.reopens > 0 {
			t.everClosed++
		}
		if r.reopens > 0 {
			t.reopened++
		}
		t.extensions += int64(r.extensions)
	}
	for id, l := range units {
		t.byUnit[int64(id)] = app.NodeCount{Total: l.total, Closed: l.closed, Dismissed: l.dismissed, Overdue: l.overdue}
	}
	for id, l := range cats {
		t.byCategory[int64(id)] = app.NodeCount{Total: l.total, Closed: l.closed, Dismissed: l.dismissed, Overdue: l.overdue}
	}
	return t
}

// trend buckets registrations, closures, dismissals and missed deadlines by
// period; instants and dates each have one more bound than there are periods.
func (b *boardIndex) trend(m *boardMatch, instants []time.Time, dates []domain.Date, today domain.Date) (reg, closed, dismissed, missed []int64, baseline int64) {
	n := len(instants) - 1
	reg, closed, dismissed, missed = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	bounds := make([]uint32, len(instants))
	for i, t := range instants {
		bounds[i] = unixSeconds(&t)
	}
	days := make([]int32, len(dates))
	for i, d := range dates {
		days[i] = dayNumber(d)
	}
	td := dayNumber(today)
	bucket := func(x uint32) int { // the period holding x, or -1
		if x < bounds[0] || x >= bounds[n] {
			return -1
		}
		return sort.Search(n, func(i int) bool { return bounds[i+1] > x })
	}
	dayBucket := func(d int32) int {
		if d < days[0] || d >= days[n] {
			return -1
		}
		return sort.Search(n, func(i int) bool { return days[i+1] > d })
	}
	closedIdx, dismissedIdx := statusIndex[domain.StatusClosed], statusIndex[domain.StatusDismissed]
	start := bounds[0]
	for i := range b.records {
		r := &b.records[i]
		if !m.keep(r) {
			continue
		}
		if k := bucket(r.created); k >= 0 {
			reg[k]++
		}
		isClosed, isDismissed := r.status == closedIdx, r.status == dismissedIdx
		if isClosed {
			if k := bucket(r.closed); k >= 0 {
				closed[k]++
			}
		}
		if isDismissed {
			if k := bucket(r.updated); k >= 0 {
				dismissed[k]++
			}
		}
		if r.deadline != 0 && r.deadline < td && (r.open() || isClosed && r.onTime == 0) {
			if k := dayBucket(r.deadline); k >= 0 {
				missed[k]++
			}
		}
		if r.created < start && (!isClosed || r.closed >= start) && (!isDismissed || r.updated >= start) {
			baseline++
		}
	}
	return reg, closed, dismissed, missed, baseline
}

// closedFact is a problem closed in a period, as the evaluation reads it.
type closedFact struct {
	assignee  int64
	unit      int64
	severity  domain.Severity
	reworks   int
	deadline  int32
	submitted uint32
}

// closedBetween lists the problems closed in [from, to) (and still closed).
func (b *boardIndex) closedBetween(from, to time.Time) []closedFact {
	lo, hi := unixSeconds(&from), unixSeconds(&to)
	closed := statusIndex[domain.StatusClosed]
	var out []closedFact
	for i := range b.records {
		r := &b.records[i]
		if r.status == closed && r.closed >= lo && r.closed < hi {
			out = append(out, closedFact{assignee: r.assignee, unit: int64(r.unit),
				severity: domain.Severities()[r.severity], reworks: int(r.reworks), deadline: r.deadline,
				submitted: r.submitted})
		}
	}
	return out
}

// dateOfSeconds is the calendar date of a Unix second in loc.
func dateOfSeconds(s uint32, loc *time.Location) domain.Date {
	return domain.DateOf(time.Unix(int64(s), 0), loc)
}

// p90Seconds returns the nearest-rank 90th percentile of the durations; it reorders them.
func p90Seconds(xs []int64) int64 {
	k := stats.NearestRank(int64(len(xs)), 0.9)
	if k == 0 {
		return 0
	}
	return stats.KthSmallest(xs, int(k))
}
