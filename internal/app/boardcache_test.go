package app_test

import (
	"sync"
	"testing"

	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/domain"
)

// The overview's totals are kept per filter while no problem changes; any
// change, a new day, another filter or another viewer's scope counts afresh.
func TestOverviewCacheFollowsChanges(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	overview := func(user string, in app.BoardInput) *app.Overview {
		t.Helper()
		o, err := e.Svc.Board.Overview(ctx, e.Caller(user), in)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	p := e.Drive(t, domain.StatusAssigned)
	e.Drive(t, domain.StatusClosed)
	first := overview("leader", app.BoardInput{})
	if again := overview("leader", app.BoardInput{}); again.Total != 2 || again.ByStatus[domain.StatusAssigned] != 1 {
		t.Fatalf("repeat: %+v", again.ByStatus)
	}
	if _, err := e.Svc.Lifecycle.Accept(ctx, e.Caller("owner1"), p.ID, 0, "签收"); err != nil {
		t.Fatal(err)
	}
	after := overview("leader", app.BoardInput{})
	if after.ByStatus[domain.StatusAssigned] != 0 || after.ByStatus[domain.StatusRectifying] != 1 {
		t.Fatalf("after accept: %+v (before %+v)", after.ByStatus, first.ByStatus)
	}
	if o := overview("leader", app.BoardInput{UnitID: e.Units["二班"].ID}); o.Total != 0 {
		t.Errorf("another unit's filter answered %d problems", o.Total)
	}
	if o := overview("owner2", app.BoardInput{}); o.Total != 0 {
		t.Errorf("owner2's scope answered %d problems of 一班", o.Total)
	}
	if o := overview("owner1", app.BoardInput{}); o.Total != 2 {
		t.Errorf("owner1's scope: %d", o.Total)
	}
	// A new day: the assigned problem's deadline comes into the yellow band.
	yellow := after.Warning.Yellow
	q := load(t, e, p.ID)
	e.Clock.Advance(days(e.Svc.Core.Today().DaysUntil(q.Deadline) - 2))
	if o := overview("leader", app.BoardInput{}); o.Warning.Yellow != yellow+1 {
		t.Errorf("two days before the deadline: yellow %d, want %d", o.Warning.Yellow, yellow+1)
	}
}

// Readers that share one refresh still see every change that committed
// before they asked: a writer reading its own changes amid busy readers.
func TestBoardReadersShareRefreshes(t *testing.T) {
	e := apptest.New(t)
	ctx := t.Context()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.Svc.Board.Overview(ctx, e.Caller("leader"), app.BoardInput{}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	for i := 1; i <= 8; i++ {
		e.Drive(t, domain.StatusAssigned)
		o, err := e.Svc.Board.Overview(ctx, e.Caller("verifier"), app.BoardInput{})
		if err != nil {
			t.Fatal(err)
		}
		if o.ByStatus[domain.StatusAssigned] != int64(i) {
			t.Fatalf("after %d assignments the board shows %d", i, o.ByStatus[domain.StatusAssigned])
		}
	}
	close(stop)
	wg.Wait()
}
