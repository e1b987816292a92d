package apifuzz_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/rectify-team/rectify/internal/app/wire"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rectify-team/rectify/internal/apifuzz"
	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/app/apptest"
	"github.com/rectify-team/rectify/internal/demo"
	"github.com/rectify-team/rectify/internal/domain"
	"github.com/rectify-team/rectify/internal/httpapi"
	"github.com/rectify-team/rectify/internal/ledger"
)

var (
	seed     = flag.Uint64("apifuzz.seed", 1, "seed of the generated requests")
	requests = flag.Int("apifuzz.n", 400, "requests to send")
)

// TestAPIAgainstDocument sends requests generated from docs/openapi.yaml to
// the real router on the real service (one user per role, problems in every
// state) and fails on anything the document and the server disagree on.
// make fuzz-api runs it longer; -apifuzz.seed picks another sequence.
func TestAPIAgainstDocument(t *testing.T) {
	env := apptest.New(t)
	// The demo department (units, users, the plan's problems at every stage, milestones, extensions,
	// re-checks) is played on the wall clock; the fixture's clock follows it there.
	env.Clock.Set(time.Now())
	if err := demo.Load(context.Background(), env.DB, env.Keys, env.Cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	metrics := httpapi.NewMetrics(env.DB.SQL())
	svc := wire.New(env.DB, env.Keys, env.Svc.Core.Config(), wire.WithClock(env.Clock.Now), wire.WithMetrics(metrics), wire.WithWorkbookReader(ledger.Parse),
		wire.WithBlobs(env.Blobs))
	h, err := httpapi.New(httpapi.ServicesOf(svc), httpapi.Options{Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	pools := map[string][]int64{"categories": {1, 5, 6, 11, 14}}
	for _, u := range env.Units {
		pools["units"] = append(pools["units"], u.ID)
	}
	for _, st := range domain.Statuses() {
		for range 2 {
			pools["problems"] = append(pools["problems"], env.Drive(t, st).ID)
		}
	}
	// Users the fuzzer may change (disable, reset, re-role): not the ones it signs in as.
	var victims []string
	for i := range 3 {
		name := fmt.Sprintf("victim%d", i)
		u, err := env.Svc.Access.CreateUser(ctx, env.Caller("admin"), app.UserInput{Username: name, Name: name,
			Password: apptest.Password, Roles: []string{"owner"}, UnitID: env.Units["一班"].ID})
		if err != nil {
			t.Fatal(err)
		}
		victims = append(victims, name)
		pools["users"] = append(pools["users"], u.ID)
	}
	pools["assignees"] = append(slices.Clone(pools["users"]), env.Users["owner1"].ID, env.Users["owner2"].ID)
	for i := range 3 {
		a, err := env.Svc.Evidence.Upload(ctx, env.Caller("owner1"), fmt.Sprintf("证据%d.pdf", i),
			strings.NewReader(fmt.Sprintf("%%PDF-1.4\n%% %d\n%%%%EOF\n", i)))
		if err != nil {
			t.Fatal(err)
		}
		pools["attachments"] = append(pools["attachments"], a.ID)
	}
	assigned := env.Drive(t, domain.StatusAssigned)
	ext, err := env.Svc.Lifecycle.RequestExtension(ctx, env.Caller("owner1"), assigned.ID, 0,
		domain.DateOf(env.Clock.Now().AddDate(0, 2, 0), env.Cfg.Location), "需采购设备")
	if err != nil {
		t.Fatal(err)
	}
	pools["problems"] = append(pools["problems"], assigned.ID)
	pools["extensions"] = []int64{ext.ID}
	for _, k := range []string{"notices", "rechecks", "outbox", "milestones"} {
		pools[k] = nil
	}

	// A workbook to import: the ledger itself, whose rows name existing categories, units and users.
	ledger := httptest.NewRecorder()
	lr := httptest.NewRequest(http.MethodGet, "/api/v1/problems/export.xlsx", nil)
	lr.Header.Set("Authorization", "Bearer "+env.Login(t, "verifier"))
	h.ServeHTTP(ledger, lr)
	if ledger.Code != http.StatusOK {
		t.Fatalf("ledger export: %d", ledger.Code)
	}

	users := []string{"", "admin", "inspector", "verifier", "verifier2", "leader", "owner1", "owner2", "ownerdept", "ownerverifier"}
	f, err := apifuzz.New("../../docs/openapi.yaml", *seed, apifuzz.Target{
		Handler:  h,
		Token:    func(u string) string { return env.Login(t, u) },
		Renew:    func(u string) string { return env.Login(t, u) },
		Users:    users,
		Pools:    pools,
		Names:    map[string][]string{"login.username": append(victims, "nobody"), "login.password": {apptest.Password}},
		Files:    map[string][]byte{"importLedger": ledger.Body.Bytes()},
		Today:    apptest.Start,
		Semantic: aboutTheData,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, findings := f.Run(*requests)
	t.Logf("seed %d: %d requests over %d operations (%d valid by the document, %d invalid); statuses %v; %d refusals about the data",
		*seed, st.Requests, f.Operations(), st.Valid, st.Invalid, st.ByStatus, st.Semantic400)
	var never []string
	for op := range st.Ops {
		if st.Succeeded[op] == 0 {
			never = append(never, fmt.Sprintf("%s %v", op, st.Answers[op]))
		}
	}
	slices.Sort(never)
	t.Logf("operations never answered with success in this run: %d %v", len(never), never)
	for _, fd := range findings {
		t.Errorf("%s", fd)
	}
}

// dataReasons are the refusals that depend on what the database holds or on
// the date, not on the request's form — and one limit in bytes — which no
// schema can say, so a 400 for one of them is not the document's fault. Each
// is described in the document's text where it applies. They are matched as
// "field: reason".
var dataReasons = regexp.MustCompile(`^[a-z_.\[\]0-9]+: (` +
	`no \w+ has (this )?id.*` + // an id naming nothing
	`|no such parent: [0-9]+` + // a unit moved below a unit that does not exist
	`|a node cannot move below itself` + // a unit or category moved into its own subtree
	`|the problem has no milestone [0-9]+` + // a milestone of another problem
	`|no attachment with id [0-9]+ that you may use.*` + // someone else's upload, or none
	`|the assignee must hold the owner role|the assignee is disabled` + // a user without the role needed, or disabled
	`|is not a cursor of this list` + // a cursor the server did not hand out
	`|lies in the future` + // found_at after today
	`|([0-9-]+ )?lies in the past` + // a deadline or a milestone before today
	`|[0-9-]+ is after the deadline [0-9-]+` + // a milestone after the deadline (given or by severity)
	`|must not be before \w+|must be later than .+` + // a range given backwards, an extension not extending
	`|[0-9]{4}-[0-9]{2} has not begun` + // an evaluation of a month to come
	`|the range holds [0-9]+ \w+; at most [0-9]+` + // a trend over too many periods
	`|is not your current password` + // a password change whose old password is wrong
	`|must be at least 14 characters for an admin` + // the admin role's longer minimum: a rule across two fields
	`|is not used: the user signs in through \w+` + // a password for a directory user: a rule across two fields
	`|is required for a local user` + // no password for a local user: a rule across two fields
	`)$` +
	`|^measures: is required$` + // on a problem's first assignment only
	`|^password: .*\b72 bytes$`) // bcrypt's limit: UTF-8 bytes, which maxLength cannot count

// workbookReasons are an import's findings in the workbook's rows, which no
// schema of a multipart body can describe.
var workbookReasons = regexp.MustCompile(`^(row [0-9]+, column [A-Z]+ \(.+\)|file): `)

func aboutTheData(op string, e apifuzz.APIError) bool {
	var fields []struct{ Field, Reason string }
	if json.Unmarshal(e.Details, &fields) != nil || len(fields) == 0 {
		return false
	}
	for _, f := range fields {
		fr := f.Field + ": " + f.Reason
		if !dataReasons.MatchString(fr) && (op != "POST /api/v1/problems/import" || !workbookReasons.MatchString(fr)) {
			return false
		}
	}
	return true
}
