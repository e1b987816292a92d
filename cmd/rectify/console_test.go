package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/rectify-team/rectify/internal/store/storetest"
)

// The browser suite drives the console in headless Chromium through the
// whole closed loop, with five people in five roles on the demo data.
//
// It needs Chromium (Debian's chromium package; RECTIFY_CHROMIUM names another
// binary). Without one it is skipped, except in CI (CI=true) or when
// RECTIFY_TEST_BROWSER=1, where a missing browser fails it. Set
// RECTIFY_SCREENSHOTS=docs/screenshots to save the main pages.

func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RECTIFY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" || os.Getenv("RECTIFY_TEST_BROWSER") == "1" {
		t.Fatal("the browser suite needs Chromium: apt-get install -y chromium (or set RECTIFY_CHROMIUM)")
	}
	t.Skip("no Chromium found: the console's browser suite is skipped (apt-get install -y chromium to run it)")
	return ""
}

// startBrowser starts headless Chromium with a fresh profile; it is killed by
// its pid when the test ends.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), 8*time.Minute)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root, chromedp.Navigate("about:blank")); err != nil {
		cancelRoot()
		cancelAlloc()
		cancelTimeout()
		t.Fatalf("start chromium: %v", err)
	}
	proc := chromedp.FromContext(root).Browser.Process()
	t.Cleanup(func() {
		cancelRoot()
		cancelAlloc()
		cancelTimeout()
		if proc != nil {
			_ = proc.Kill()
			_, _ = proc.Wait()
		}
	})
	return root
}

// person is one user in a browser context of their own (cookies apart).
type person struct {
	t    *testing.T
	ctx  context.Context
	base string
	name string
}

func newPerson(t *testing.T, root context.Context, base, name string) *person {
	ctx, cancel := chromedp.NewContext(root, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return &person{t: t, ctx: ctx, base: base, name: name}
}

func (p *person) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("%s at %s: %v", p.name, loc, err)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func eval[T any](p *person, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("%s: evaluate %s: %v", p.name, expr, err)
	}
	return v
}

// text is the visible text of the first match, "" when there is none.
func (p *person) text(sel string) string {
	p.t.Helper()
	return eval[string](p, `(document.querySelector(`+jsString(sel)+`) || {innerText: ""}).innerText`)
}

func (p *person) open(path string) {
	p.t.Helper()
	p.do(chromedp.Navigate(p.base + path))
}

// waitFor waits until a JavaScript condition holds on the page. It asks
// again after a navigation cut a question short.
func (p *person) waitFor(cond string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		var ok bool
		ok, err = chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+cond+`) } catch (e) { return false } })()`))
		if err == nil && ok {
			return
		}
		if p.ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	p.t.Fatalf("%s at %s: waiting for %s: %v\n%s", p.name, loc, cond, err, p.text("main"))
}

// submitAndWait clicks a submit button and waits for the page an action leads to.
func (p *person) submitAndWait(button, done string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(button)))
	p.waitFor(`location.search.includes("done=` + done + `") && document.readyState === "complete"`)
}

// choose picks the option of a select whose text holds text.
func (p *person) choose(sel, text string) {
	p.t.Helper()
	ok := eval[bool](p, `(() => { const s = document.querySelector(`+jsString(sel)+`);
		const o = [...s.options].find(o => o.text.includes(`+jsString(text)+`));
		if (!o) return false; s.value = o.value; return true })()`)
	if !ok {
		p.t.Fatalf("%s: no option %q in %s", p.name, text, sel)
	}
}

func (p *person) set(sel, value string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

func (p *person) login(username, password string) {
	p.t.Helper()
	p.open("/")
	p.waitFor(`location.pathname === "/login"`)
	p.set("#username", username)
	p.set("#password", password)
	p.do(chromedp.Click(chromedp.CSS("#login-submit")))
	p.waitFor(`location.pathname === "/" && document.readyState === "complete" && !!document.querySelector("#signout")`)
	if !eval[bool](p, `typeof htmx === "object"`) {
		p.t.Fatalf("%s: htmx did not load under the page's CSP", p.name)
	}
}

// actions lists the action forms and buttons the problem page offers.
func (p *person) actions() string {
	return eval[string](p, `[...document.querySelectorAll("#actions [id^=act-]")].map(e => e.id).sort().join(" ")`)
}

func (p *person) expectActions(want string) {
	p.t.Helper()
	if got := p.actions(); got != want {
		p.t.Fatalf("%s: actions %q, want %q", p.name, got, want)
	}
}

func (p *person) expectStatus(want string) {
	p.t.Helper()
	if got := p.text("#status"); got != want {
		p.t.Fatalf("%s: status %q, want %q\n%s", p.name, got, want, p.text("main"))
	}
}

// fitsPhone checks that the page has no horizontal overflow at 375 px.
func (p *person) fitsPhone(path, name string) {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile), chromedp.Navigate(p.base+path))
	w := eval[int](p, `document.documentElement.scrollWidth`)
	if w > 375 {
		wide := eval[string](p, `[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 376).slice(0, 5).map(e => e.tagName + "." + e.className).join(", ")`)
		p.t.Errorf("%s: %s is %d px wide at 375 px: %s", p.name, path, w, wide)
	}
	p.screenshot(name + "-375")
	p.do(chromedp.EmulateViewport(1280, 900))
}

// screenshot saves the page (PNG) when RECTIFY_SCREENSHOTS names a folder.
func (p *person) screenshot(name string) {
	p.t.Helper()
	dir := os.Getenv("RECTIFY_SCREENSHOTS")
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", "..", dir) // the suite runs in cmd/rectify
	}
	// A tall page can stall Chromium's beyond-the-viewport capture; then the
	// visible part is enough.
	sctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	img, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
	cancel()
	if err != nil {
		if img, err = chromedp.Run(p.ctx, chromedp.CaptureScreenshot()); err != nil {
			p.t.Fatalf("screenshot %s: %v", name, err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), img, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func writePhoto(t *testing.T, name string, c color.Color) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// badLedger writes an import whose second data row names no known category.
func badLedger(t *testing.T) string {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }() // written out below; Close frees temporary files
	rows := [][]any{
		{"问题标题", "类别", "严重程度", "来源", "责任单位", "发现日期"},
		{"导入的问题一", "思想政治", "一般", "检查", "智电二班", "2026-11-30"},
		{"导入的问题二", "不存在的类别", "一般", "检查", "智电二班", "2026-11-30"},
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "台账.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConsoleClosedLoopInBrowser(t *testing.T) {
	root := startBrowser(t)
	env := []string{"RECTIFY_DB=" + storetest.URL(t), "RECTIFY_DATA_DIR=" + t.TempDir(), "RECTIFY_ADMIN_PASSWORD=admin-console-pw",
		"RECTIFY_SCHEDULER_INTERVAL=0"}
	s := start(t, env, "--demo")
	base := s.base
	loc, _ := time.LoadLocation("Asia/Shanghai")
	today := time.Now().In(loc)

	inspector := newPerson(t, root, base, "inspector zhaomin")
	verifier := newPerson(t, root, base, "verifier liwenhua")
	owner := newPerson(t, root, base, "owner liuyang")
	leader := newPerson(t, root, base, "leader wangjianguo")
	admin := newPerson(t, root, base, "admin")

	// The inspector registers a problem with a photo; its title holds markup.
	inspector.login("zhaomin", "demo-zhaomin")
	inspector.screenshot("home-inspector")
	if got := inspector.text("#home-inspector h2"); got == "" {
		t.Fatalf("the inspector's home has no section of theirs: %s", inspector.text("main"))
	}
	inspector.fitsPhone("/problems/new", "register")
	inspector.open("/problems/new")
	title := `<script>window.pwned=1</script>班组台账缺失 <b>E2E</b>`
	// A refused form keeps what was typed and says why beside the field.
	inspector.set("#f-title", title)
	inspector.set("#f-description", "抽查发现班组安全台账缺少十月份记录")
	inspector.choose("#f-unit", "智电一班")
	// The browser would refuse the empty category itself; the server must too.
	eval[bool](inspector, `document.querySelector("#f-category").removeAttribute("required") || true`)
	inspector.do(chromedp.Click(chromedp.CSS("#problem-submit")))
	inspector.waitFor(`!!document.querySelector(".field-error")`)
	if got := inspector.text("#f-category + .field-error"); got != "必填" {
		t.Fatalf("a missing category shows %q beside the field, not the Chinese reason: %s", got, inspector.text("#problem-form"))
	}
	if got := eval[string](inspector, `document.querySelector("#f-title").value`); got != title {
		t.Fatalf("the refused form lost the title: %q", got)
	}
	eval[bool](inspector, `(() => { document.querySelector("#f-category").selectedIndex = 1; return true })()`)
	inspector.do(chromedp.Click(chromedp.CSS(`input[name=severity][value=serious]`)))
	photo := writePhoto(t, "现场.png", color.RGBA{200, 40, 40, 255})
	inspector.do(chromedp.SetUploadFiles(chromedp.CSS("#f-photos"), []string{photo}))
	inspector.submitAndWait("#problem-submit", "register")
	problemURL := eval[string](inspector, `location.pathname`)
	if got := inspector.text("#problem-title"); got != title {
		t.Fatalf("the title shows as %q, want the text %q", got, title)
	}
	if eval[bool](inspector, `window.pwned === 1`) {
		t.Fatal("the title's script ran")
	}
	inspector.expectStatus("已登记")
	inspector.expectActions("act-edit")
	inspector.waitFor(`[...document.querySelectorAll("#evidence img")].some(i => i.complete && i.naturalWidth === 64)`)
	inspector.screenshot("problem-registered")

	// Registered, it can still be edited.
	inspector.do(chromedp.Click(chromedp.CSS("#act-edit")))
	inspector.waitFor(`location.pathname.endsWith("/edit")`)
	inspector.set("#f-description", "抽查发现班组安全台账缺少十月、十一月记录")
	inspector.submitAndWait("#problem-submit", "edit")
	if got := inspector.text(".desc"); !strings.Contains(got, "十一月") {
		t.Fatalf("the edited description: %q", got)
	}

	// A state change without the session's CSRF token, or with a wrong one, is refused.
	for _, body := range []string{`"text=csrf-probe"`, `"text=csrf-probe&csrf=wrong"`} {
		status := eval[int](inspector, `fetch(`+jsString(problemURL+"/comment")+`, {method: "POST", redirect: "manual",
			headers: {"Content-Type": "application/x-www-form-urlencoded"}, body: `+body+`}).then(r => r.status)`)
		if status != 403 {
			t.Fatalf("a comment posted with %s answered %d, want 403", body, status)
		}
	}
	withToken := eval[int](inspector, `fetch(`+jsString(problemURL+"/comment")+`, {method: "POST",
		headers: {"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": document.querySelector("meta[name=csrf-token]").content},
		body: "text=" + encodeURIComponent("现场已拍照")}).then(r => r.status)`)
	if withToken != 200 {
		t.Fatalf("a comment with the token answered %d, want 200 after the redirect", withToken)
	}
	inspector.open(problemURL)
	if got := inspector.text("#comments"); strings.Contains(got, "csrf-probe") || !strings.Contains(got, "现场已拍照") {
		t.Fatalf("comments after the CSRF probes: %q", got)
	}

	// A bulk import with a bad cell names its row and column, and imports nothing.
	inspector.open("/problems/import")
	inspector.do(chromedp.SetUploadFiles(chromedp.CSS("#import-form input[type=file]"), []string{badLedger(t)}))
	inspector.do(chromedp.Click(chromedp.CSS("#import-form button[type=submit]")))
	inspector.waitFor(`!!document.querySelector("#import-errors")`)
	if got := inspector.text("#import-errors"); !strings.Contains(got, "第 3 行 B 列（类别）") || !strings.Contains(got, "没有名为") {
		t.Fatalf("the import's errors do not name row 3's category cell: %q", got)
	}
	inspector.screenshot("import-errors")

	// The working group assigns it with a milestone; the deadline defaults by severity.
	verifier.login("liwenhua", "demo-liwenhua")
	if got := verifier.text("#home-assign"); !strings.Contains(got, "班组台账缺失") {
		t.Fatalf("待交办 does not list the new problem: %q", got)
	}
	verifier.screenshot("home-verifier")
	verifier.open(problemURL)
	verifier.expectActions("act-assign act-dismiss act-edit")
	verifier.do(chromedp.Click(chromedp.CSS("#act-assign > summary")))
	if got, want := eval[string](verifier, `document.querySelector("#act-assign input[name=deadline]").value`), today.AddDate(0, 0, 15).Format(time.DateOnly); got != want {
		t.Fatalf("the assign form's deadline is %q, want %q (15 days for a serious problem)", got, want)
	}
	verifier.choose("#assignee-picker", "liuyang")
	verifier.set("#act-assign textarea[name=measures]", "补齐十月份台账，班长签字确认")
	verifier.set("#act-assign input[name=milestone_due]", today.AddDate(0, 0, 5).Format(time.DateOnly))
	verifier.set("#act-assign input[name=milestone_title]", "补齐台账")
	verifier.submitAndWait("#act-assign button[type=submit]", "assign")
	verifier.expectStatus("已交办")
	if got := verifier.text("#milestones"); !strings.Contains(got, "补齐台账") {
		t.Fatalf("milestones after assign: %q", got)
	}

	// The owner finds it in 我的待办, accepts, reports progress and submits with evidence.
	owner.login("liuyang", "demo-liuyang")
	// The assignment waits in the inbox; opening it marks that one message
	// read and opens its problem, and the badge counts one fewer.
	owner.open("/inbox")
	badge := func() int {
		return eval[int](owner, `Number((document.querySelector("#unread .badge") || {innerText: "0"}).innerText)`)
	}
	unread := badge()
	message := eval[string](owner, `(() => { const f = [...document.querySelectorAll("#inbox li.unread form.row-open")]
		.find(f => (f.querySelector("input[name=problem_id]") || {}).value === `+jsString(strings.TrimPrefix(problemURL, "/problems/"))+`);
		return f ? "#" + f.querySelector("button").id : "" })()`)
	if unread == 0 || message == "" {
		t.Fatalf("the owner's inbox has no unread message about the assigned problem (badge %d): %s", unread, owner.text("#inbox"))
	}
	owner.do(chromedp.Click(chromedp.CSS(message)))
	owner.waitFor(`location.pathname === ` + jsString(problemURL) + ` && document.readyState === "complete"`)
	if got := badge(); got != unread-1 {
		t.Fatalf("the badge after opening one message: %d, was %d", got, unread)
	}
	owner.open("/todo")
	if got := owner.text("#todo"); !strings.Contains(got, "班组台账缺失") {
		t.Fatalf("我的待办 does not list the assigned problem: %q", got)
	}
	lights := eval[string](owner, `[...document.querySelectorAll("#todo .light")].map(e => e.className.replace("light light-", "")).join(",")`)
	rank := map[string]int{"red": 0, "yellow": 1, "green": 2}
	parts := strings.Split(lights, ",")
	for i := 1; i < len(parts); i++ {
		if rank[parts[i]] < rank[parts[i-1]] {
			t.Fatalf("我的待办 is not red → yellow → green: %s", lights)
		}
	}
	owner.screenshot("todo")
	owner.fitsPhone("/todo", "todo")
	owner.open(problemURL)
	owner.expectActions("act-accept act-request_extension")
	owner.do(chromedp.Click(chromedp.CSS("#act-accept > summary")))
	owner.set("#act-accept textarea[name=note]", "收到，马上整改")
	owner.submitAndWait("#act-accept button[type=submit]", "accept")
	owner.expectStatus("整改中")
	owner.do(chromedp.Click(chromedp.CSS("#act-progress > summary")))
	owner.set("#act-progress input[name=percent]", "50")
	owner.do(chromedp.Click(chromedp.CSS("#act-progress input[name=milestone_ids]")))
	owner.set("#act-progress textarea[name=note]", "台账已补齐一半")
	owner.do(chromedp.SetUploadFiles(chromedp.CSS("#act-progress input[type=file]"), []string{writePhoto(t, "进度.png", color.RGBA{40, 160, 40, 255})}))
	owner.submitAndWait("#act-progress button[type=submit]", "progress")
	if got := owner.text("#percent"); got != "50%" {
		t.Fatalf("progress shows %q, want 50%%", got)
	}
	if got := owner.text("#milestones"); !strings.Contains(got, "已完成") {
		t.Fatalf("the milestone is not done: %q", got)
	}
	owner.fitsPhone(problemURL, "problem")
	report := filepath.Join(t.TempDir(), "整改报告.txt")
	if err := os.WriteFile(report, []byte("十月份台账已补齐，班长已签字。\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	owner.do(chromedp.Click(chromedp.CSS("#act-submit > summary")))
	owner.set("#act-submit textarea[name=note]", "整改完成")
	owner.do(chromedp.SetUploadFiles(chromedp.CSS("#act-submit input[type=file]"), []string{report}))
	owner.submitAndWait("#act-submit button[type=submit]", "submit")
	owner.expectStatus("待验收")
	owner.expectActions("")

	// The working group sends it back: first without the note a send-back needs.
	verifier.open(problemURL)
	verifier.expectActions("act-verify")
	verifier.do(chromedp.Click(chromedp.CSS("#act-verify > summary")))
	if got := verifier.text("#act-verify .verify-evidence"); !strings.Contains(got, "整改报告.txt") {
		t.Fatalf("the evidence is not beside the verify form: %q", got)
	}
	verifier.screenshot("verify")
	verifier.do(chromedp.Click(chromedp.CSS("#verify-fail")))
	verifier.waitFor(`!!document.querySelector("#act-verify[open] .field-error, #act-verify[open] .form-errors")`)
	verifier.set("#act-verify textarea[name=note]", "缺少班长签字页")
	verifier.submitAndWait("#verify-fail", "verify_fail")
	verifier.expectStatus("整改中")

	// The owner resubmits.
	owner.open(problemURL)
	owner.do(chromedp.Click(chromedp.CSS("#act-submit > summary")))
	owner.set("#act-submit textarea[name=note]", "已补签字页")
	owner.do(chromedp.SetUploadFiles(chromedp.CSS("#act-submit input[type=file]"), []string{writePhoto(t, "签字页.png", color.RGBA{40, 40, 200, 255})}))
	owner.submitAndWait("#act-submit button[type=submit]", "submit")
	owner.expectStatus("待验收")

	// Two tabs act on one problem: the second sees a clear message and the current state.
	verifier.open(problemURL)
	other, cancel := chromedp.NewContext(verifier.ctx)
	defer cancel()
	second := &person{t: t, ctx: other, base: base, name: "verifier liwenhua (second tab)"}
	second.open(problemURL)
	second.do(chromedp.Click(chromedp.CSS("#act-verify > summary")))
	second.set("#act-verify textarea[name=note]", "同意销号")
	second.submitAndWait("#verify-pass", "verify_pass")
	second.expectStatus("已销号")
	verifier.do(chromedp.Click(chromedp.CSS("#act-verify > summary")))
	verifier.set("#act-verify textarea[name=note]", "再看看")
	verifier.do(chromedp.Click(chromedp.CSS("#verify-fail")))
	verifier.waitFor(`!!document.querySelector("#conflict")`)
	if got := verifier.text("#conflict"); !strings.Contains(got, "已销号") {
		t.Fatalf("the losing verify says %q", got)
	}
	verifier.expectStatus("已销号")

	// Reopened, it is back with its owner.
	verifier.expectActions("act-reopen")
	verifier.do(chromedp.Click(chromedp.CSS("#act-reopen > summary")))
	verifier.set("#act-reopen textarea[name=reason]", "回头看发现台账又缺页")
	verifier.submitAndWait("#act-reopen button[type=submit]", "reopen")
	if got := verifier.text("#status"); got != "整改中" && got != "已交办" {
		t.Fatalf("a reopened problem is %q", got)
	}
	if got := verifier.text("#timeline"); !strings.Contains(got, "退回") || !strings.Contains(got, "重新打开") {
		t.Fatalf("the timeline misses steps: %q", got)
	}

	// The working group awards contribution points and drafts a 通报 from the overdue report.
	verifier.open("/contributions")
	verifier.choose("#award-form select[name=user_id]", "liuyang")
	verifier.set("#award-form input[name=points]", "3")
	verifier.set("#award-form input[name=reason]", "台账整改及时")
	verifier.submitAndWait("#award-form button[type=submit]", "award")
	if got := verifier.text("#contributions"); !strings.Contains(got, "台账整改及时") {
		t.Fatalf("the award is not listed: %q", got)
	}
	verifier.open("/reports?kind=overdue")
	if got := verifier.text("#report"); got == "" {
		t.Fatal("the overdue report is empty")
	}
	verifier.open("/notices")
	verifier.do(chromedp.Click(chromedp.CSS("#notice-draft > summary")),
		chromedp.Click(chromedp.CSS(`#notice-draft input[name=from][value=report]`)))
	verifier.set("#notice-draft select[name=kind]", "criticism")
	verifier.set("#notice-draft select[name=report]", "overdue")
	verifier.submitAndWait("#notice-draft button[type=submit]", "notice")

	// The leader follows it in the list; the export link carries the list's filters.
	leader.login("wangjianguo", "demo-wangjianguo")
	// Ticking a filter updates the list in place (htmx) and the address with it.
	leader.open("/problems")
	leader.do(chromedp.Click(chromedp.CSS(".filters > summary")),
		chromedp.Click(chromedp.CSS(`.filter-form input[name=severity][value=serious]`)))
	leader.waitFor(`location.search === "?severity=serious" && document.querySelector("#export").getAttribute("href").includes("severity=serious")`)
	if got := leader.text("#results"); !strings.Contains(got, "班组台账缺失") || strings.Contains(got, "一般") {
		t.Fatalf("the leader's filtered list: %q", got)
	}
	if got := eval[string](leader, `document.querySelector("#export").getAttribute("href")`); got != "/problems/export.xlsx?severity=serious" {
		t.Fatalf("the export link is %q", got)
	}
	leader.screenshot("list")
	leader.fitsPhone("/problems", "list")
	leader.open(problemURL)
	if got := leader.text("#timeline li"); got == "" {
		t.Fatal("the leader sees no timeline")
	}
	// A page without charts stays light and never loads the chart library.
	if eval[bool](leader, `typeof echarts !== "undefined"`) {
		t.Fatal("the problem page loaded the chart library")
	}
	weight := eval[int](leader, `performance.getEntriesByType("navigation")[0].decodedBodySize +
		performance.getEntriesByType("resource").reduce((n, r) => n + r.decodedBodySize, 0)`)
	if weight == 0 || weight > 200<<10 {
		t.Fatalf("the problem page weighs %d bytes", weight)
	}

	// The board draws its charts; the wall refreshes itself.
	leader.open("/board")
	leader.waitFor(`!!document.querySelector("#board").dataset.drawn && document.querySelectorAll("#board canvas").length >= 5`)
	if got := leader.text("#kpi-total"); got == "" || got == "0" {
		t.Fatalf("the board's total is %q", got)
	}
	leader.screenshot("board")
	leader.open("/board?wall=1")
	leader.waitFor(`document.body.classList.contains("wall") && !!document.querySelector("#board").dataset.drawn`)
	leader.screenshot("board-wall")

	// The leader publishes the 通报 the working group drafted.
	leader.open("/notices")
	leader.submitAndWait(`.notice form[action$="/publish"] button`, "notice")
	if got := leader.text(".notice"); !strings.Contains(got, "已发布") {
		t.Fatalf("the notice after publishing: %q", got)
	}

	// The monthly evaluation shows its formula; the trail verifies (校验).
	leader.open("/evaluation")
	if got := leader.text("#formula"); got == "" {
		t.Fatal("the evaluation shows no formula")
	}
	leader.screenshot("evaluation")
	leader.open("/audit")
	leader.do(chromedp.Click(chromedp.CSS("#audit-verify")))
	leader.waitFor(`!!document.querySelector("#verify-result")`)
	if got := leader.text("#verify-result"); !strings.Contains(got, "校验通过") {
		t.Fatalf("the audit trail's verification says %q", got)
	}

	// The leader changes their password: a wrong current one is refused beside
	// the field; then the leader's other sessions end and the new one signs in.
	leader.open("/password")
	leader.set("#password-form input[name=old]", "wrong-password")
	leader.set("#password-form input[name=new]", "Leader-New-pw-2026")
	leader.set("#password-form input[name=confirm]", "Leader-New-pw-2026")
	leader.do(chromedp.Click(chromedp.CSS("#password-form button[type=submit]")))
	leader.waitFor(`!!document.querySelector("#password-form .field-error")`)
	leader.set("#password-form input[name=old]", "demo-wangjianguo")
	leader.set("#password-form input[name=new]", "Leader-New-pw-2026")
	leader.set("#password-form input[name=confirm]", "Leader-New-pw-2026")
	leader.submitAndWait("#password-form button[type=submit]", "password")
	leader.do(chromedp.Click(chromedp.CSS("#signout")))
	leader.waitFor(`location.pathname === "/login"`)
	leader.login("wangjianguo", "Leader-New-pw-2026")

	// The admin signs in; an absent problem is the 404 page.
	admin.login("admin", "admin-console-pw")
	admin.open("/admin")
	admin.set("#user-form input[name=username]", "e2e-owner")
	admin.set("#user-form input[name=name]", "测试责任人")
	admin.set("#user-form input[name=password]", "e2e-owner-pw")
	admin.do(chromedp.Click(chromedp.CSS(`#user-form input[name=roles][value=owner]`)))
	admin.choose("#user-form select[name=unit_id]", "智电一班")
	admin.submitAndWait("#user-form button[type=submit]", "admin")
	admin.do(chromedp.Click(chromedp.CSS("#user-e2e-owner summary")),
		chromedp.Click(chromedp.CSS(`#user-e2e-owner input[name=disabled]`)),
		chromedp.Click(chromedp.CSS(`#user-e2e-owner form[action^="/admin/user/"] button[type=submit]`)))
	// The tag in the row's head, not the open form's checkbox label, says the save happened.
	admin.waitFor(`location.search.includes("done=admin") && document.readyState === "complete" &&
		(document.querySelector("#user-e2e-owner .row-head .tag") || {innerText: ""}).innerText.includes("停用")`)
	admin.screenshot("admin")
	admin.open("/problems/999999")
	if got := admin.text("#error-message"); got == "" {
		t.Fatal("an absent problem shows no error page")
	}

	// Signing out ends the session: the next page asks to sign in again.
	owner.do(chromedp.Click(chromedp.CSS("#signout")))
	owner.waitFor(`location.pathname === "/login"`)
	owner.open("/todo")
	owner.waitFor(`location.pathname === "/login"`)
	s.stop()
}
