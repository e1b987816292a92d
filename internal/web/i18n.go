package web

import (
	"fmt"
	"net/http"

	"github.com/rectify-team/rectify/internal/domain"
)

// Languages the console speaks; the first is the default.
const (
	langZH = "zh"
	langEN = "en"
)

// catalogue holds every label of the console, by message id: Chinese first,
// then English. A missing English label falls back to the Chinese one.
var catalogue = map[string][2]string{
	"app.name":              {"整改闭环", "Rectify"},
	"nav.home":              {"首页", "Home"},
	"nav.problems":          {"问题台账", "Problems"},
	"nav.register":          {"登记问题", "Register"},
	"nav.todo":              {"我的待办", "My to-do"},
	"nav.queues":            {"工作队列", "Queues"},
	"nav.inbox":             {"消息", "Inbox"},
	"nav.signout":           {"退出", "Sign out"},
	"nav.lang":              {"English", "中文"},
	"login.title":           {"登录", "Sign in"},
	"login.username":        {"用户名", "Username"},
	"login.password":        {"密码", "Password"},
	"login.submit":          {"登录", "Sign in"},
	"login.bad":             {"用户名或密码错误", "Wrong username or password"},
	"login.throttled":       {"失败次数过多，请稍后再试", "Too many failed attempts; try again later"},
	"home.title":            {"首页", "Home"},
	"home.hello":            {"您好，%s", "Hello, %s"},
	"home.roles":            {"角色", "Roles"},
	"home.inspector":        {"检查人：登记现场发现的问题，登记后仍可修改。", "Inspector: register what you find; edit while registered."},
	"home.owner":            {"责任人：签收、上报进度、提交整改。", "Owner: accept, report progress, submit the fix."},
	"home.verifier":         {"工作小组：交办、验收、督办。", "Working group: assign, verify, urge."},
	"home.leader":           {"领导：查看问题台账与整改进展。", "Leader: follow the problems and their rectification."},
	"home.admin":            {"管理员：单位、用户与分类。", "Admin: units, users and categories."},
	"home.mine":             {"我登记的问题", "Problems I registered"},
	"queue.assign":          {"待交办", "To assign"},
	"queue.verify":          {"待验收", "To verify"},
	"queue.rechecks":        {"回头看到期", "Re-checks due"},
	"queue.none":            {"暂无", "Nothing here"},
	"queue.more":            {"查看全部", "See all"},
	"todo.title":            {"我的待办", "My to-do"},
	"todo.hint":             {"按红灯、黄灯、绿灯排序", "Red first, then yellow, then green"},
	"list.title":            {"问题台账", "Problems"},
	"list.filter":           {"筛选", "Filter"},
	"list.reset":            {"清除", "Clear"},
	"list.search":           {"关键词", "Search"},
	"list.any":              {"全部", "Any"},
	"list.export":           {"导出台账", "Export ledger"},
	"list.next":             {"下一页", "Next page"},
	"list.first":            {"第一页", "First page"},
	"list.empty":            {"没有符合条件的问题", "No problem matches"},
	"list.overdue":          {"已超期", "Overdue"},
	"col.code":              {"编号", "Code"},
	"col.title":             {"问题", "Problem"},
	"col.status":            {"状态", "Status"},
	"col.severity":          {"等级", "Severity"},
	"col.unit":              {"责任单位", "Unit"},
	"col.category":          {"类别", "Category"},
	"col.deadline":          {"期限", "Deadline"},
	"col.warning":           {"亮灯", "Light"},
	"col.percent":           {"进度", "Progress"},
	"f.title":               {"问题标题", "Title"},
	"f.description":         {"问题描述", "Description"},
	"f.category":            {"问题类别", "Category"},
	"f.unit":                {"责任单位", "Responsible unit"},
	"f.severity":            {"严重程度", "Severity"},
	"f.source":              {"问题来源", "Source"},
	"f.found_at":            {"发现日期", "Date found"},
	"f.photos":              {"现场照片", "Photos"},
	"f.files":               {"佐证材料", "Evidence"},
	"f.assignee":            {"责任人", "Assignee"},
	"f.deadline":            {"整改期限", "Deadline"},
	"f.measures":            {"整改措施", "Measures"},
	"f.milestones":          {"节点计划（挂图作战）", "Milestones"},
	"f.ms_due":              {"节点日期", "Due"},
	"f.ms_title":            {"节点内容", "Milestone"},
	"f.note":                {"说明", "Note"},
	"f.reason":              {"理由", "Reason"},
	"f.percent":             {"完成百分比", "Percent done"},
	"f.done_ms":             {"已完成节点", "Milestones done"},
	"f.comment":             {"评论", "Comment"},
	"f.new_deadline":        {"申请延至", "New deadline"},
	"f.choose":              {"请选择", "Choose"},
	"f.save":                {"保存", "Save"},
	"f.required":            {"必填", "required"},
	"reg.title":             {"登记问题", "Register a problem"},
	"reg.submit":            {"登记", "Register"},
	"edit.title":            {"修改问题", "Edit the problem"},
	"p.details":             {"问题详情", "Details"},
	"p.code":                {"编号", "Code"},
	"p.status":              {"状态", "Status"},
	"p.assignee":            {"责任人", "Assignee"},
	"p.deadline":            {"整改期限", "Deadline"},
	"p.measures":            {"整改措施", "Measures"},
	"p.percent":             {"整改进度", "Progress"},
	"p.created":             {"登记于", "Registered"},
	"p.rework":              {"退回次数", "Sent back"},
	"p.evidence":            {"佐证材料与照片", "Evidence and photos"},
	"p.milestones":          {"节点计划", "Milestones"},
	"p.extensions":          {"延期申请", "Extensions"},
	"p.comments":            {"评论", "Comments"},
	"p.timeline":            {"办理记录", "Timeline"},
	"p.actions":             {"可办理", "Actions"},
	"p.no_actions":          {"当前没有您可办理的操作", "No action is open to you now"},
	"p.none":                {"无", "None"},
	"p.done":                {"已完成", "done"},
	"p.open":                {"未完成", "open"},
	"p.download":            {"下载", "Download"},
	"p.conflict":            {"此问题刚被他人办理，当前状态为「%s」。下面是最新情况，请确认后再操作。", "Someone else acted on this problem first; it is now “%s”. This is its current state: check it before acting again."},
	"p.refused":             {"操作未完成：%s", "Not done: %s"},
	"p.fix_errors":          {"请修正下列标出的内容", "Please correct the fields marked below"},
	"p.saved":               {"已办理：%s", "Done: %s"},
	"p.pending":             {"待审批", "pending"},
	"p.approved":            {"已批准", "approved"},
	"p.rejected":            {"未批准", "rejected"},
	"p.approve":             {"批准", "Approve"},
	"p.reject":              {"不批准", "Reject"},
	"p.verify_pass":         {"验收通过，销号", "Pass and close"},
	"p.verify_fail":         {"退回整改", "Send back"},
	"p.submitted_ev":        {"提交的整改佐证", "The evidence submitted"},
	"act.edit":              {"修改", "Edit"},
	"act.assign":            {"交办", "Assign"},
	"act.accept":            {"签收", "Accept"},
	"act.progress":          {"进度上报", "Report progress"},
	"act.submit":            {"提交整改", "Submit the fix"},
	"act.verify_pass":       {"验收通过", "Verify: pass"},
	"act.verify_fail":       {"退回", "Verify: send back"},
	"act.verify":            {"验收", "Verify"},
	"act.dismiss":           {"不予立项", "Dismiss"},
	"act.reopen":            {"重新打开", "Reopen"},
	"act.request_extension": {"申请延期", "Request an extension"},
	"act.decide_extension":  {"延期审批", "Decide the extension"},
	"act.urge":              {"督办", "Urge"},
	"act.comment":           {"评论", "Comment"},
	"act.register":          {"登记", "Register"},
	"act.login":             {"登录", "Sign in"},
	"act.logout":            {"退出", "Sign out"},
	"sev.general":           {"一般", "General"},
	"sev.serious":           {"较重", "Serious"},
	"sev.critical":          {"严重", "Critical"},
	"src.self_check":        {"自查", "Self-check"},
	"src.spot_check":        {"抽查", "Spot check"},
	"src.inspection":        {"检查", "Inspection"},
	"src.supervision":       {"督查", "Supervision"},
	"src.report":            {"反映", "Report"},
	"warn.green":            {"绿灯", "Green"},
	"warn.yellow":           {"黄灯", "Yellow"},
	"warn.red":              {"红灯", "Red"},
	"role.inspector":        {"检查人", "Inspector"},
	"role.owner":            {"责任人", "Owner"},
	"role.verifier":         {"工作小组", "Working group"},
	"role.leader":           {"领导", "Leader"},
	"role.admin":            {"管理员", "Admin"},
	"inbox.title":           {"消息", "Inbox"},
	"inbox.empty":           {"没有消息", "No messages"},
	"inbox.read_all":        {"全部标为已读", "Mark all read"},
	"inbox.unread":          {"未读", "unread"},
	"pw.title":              {"修改密码", "Change password"},
	"pw.current":            {"当前密码", "Current password"},
	"pw.new":                {"新密码（至少 8 位）", "New password (8 characters or more)"},
	"pw.confirm":            {"再次输入新密码", "New password again"},
	"pw.mismatch":           {"两次输入的新密码不一致", "the two new passwords differ"},
	"pw.changed":            {"密码已修改，请用新密码登录", "Your password is changed; sign in with the new one"},
	"imp.title":             {"批量导入", "Bulk import"},
	"imp.hint":              {"按导入模板填写整改台账（.xlsx）后上传；有错误时不会导入任何一行。", "Fill in the import template (.xlsx) and upload it; nothing is imported while any row has an error."},
	"imp.template":          {"下载导入模板", "Download the template"},
	"imp.file":              {"台账文件", "Ledger workbook"},
	"imp.submit":            {"导入", "Import"},
	"imp.choose":            {"请选择一个 .xlsx 文件", "choose one .xlsx file"},
	"imp.errors":            {"以下单元格有误，请修改后重新上传：", "These cells are wrong; correct them and upload again:"},
	"imp.cell":              {"位置", "Cell"},
	"imp.reason":            {"原因", "Reason"},
	"imp.done":              {"共 %d 行，新登记 %d 条，跳过 %d 条。", "%d rows: %d registered, %d skipped."},
	"imp.row":               {"行", "Row"},
	"nav.password":          {"修改密码", "Password"},
	"nav.import":            {"批量导入", "Import"},
	"recheck.due":           {"%s 到期（销号后第 %d 天）", "due %s (day %d after closing)"},
	"nav.board":             {"作风看板", "Board"},
	"nav.evaluation":        {"月度评价", "Evaluation"},
	"nav.audit":             {"审计记录", "Audit trail"},
	"b.title":               {"作风看板", "Board"},
	"b.wall":                {"大屏模式", "Wall mode"},
	"b.exit_wall":           {"退出大屏", "Leave wall mode"},
	"b.as_of":               {"统计截至 %s，每分钟自动刷新", "As of %s; refreshes every minute"},
	"b.status":              {"问题状态", "Status"},
	"b.warning":             {"红黄绿灯", "Traffic lights"},
	"b.units":               {"各单位问题与销号率", "Units"},
	"b.categories":          {"问题类别", "Categories"},
	"b.trend":               {"月度趋势", "Trend by month"},
	"b.total":               {"问题总数", "Problems"},
	"b.closed":              {"已销号", "Closed"},
	"b.overdue":             {"超期", "Overdue"},
	"b.registered":          {"新登记", "Registered"},
	"b.backlog":             {"未办结", "Open"},
	"b.rate":                {"销号率", "Closure rate"},
	"b.closure":             {"销号率", "Closure rate"},
	"b.on_time":             {"按期销号率", "On-time rate"},
	"ev.title":              {"月度评价", "Monthly evaluation"},
	"ev.month":              {"月份", "Month"},
	"ev.person":             {"按人", "People"},
	"ev.unit":               {"按单位", "Units"},
	"ev.show":               {"查看", "Show"},
	"ev.model":              {"标兵", "Model worker"},
	"ev.improved":           {"进步之星", "Most improved"},
	"ev.formula":            {"计分公式", "Formula"},
	"ev.rank":               {"名次", "Rank"},
	"ev.name":               {"姓名/单位", "Name"},
	"ev.closed":             {"销号数", "Closed"},
	"ev.workload":           {"工作量", "Workload"},
	"ev.accuracy":           {"一次通过率", "First pass"},
	"ev.timeliness":         {"及时率", "Timeliness"},
	"ev.contribution":       {"贡献分", "Contribution"},
	"ev.score":              {"得分", "Score"},
	"ev.published":          {"已于 %s 发布", "Published %s"},
	"ev.draft":              {"未发布（实时计算）", "Not published (computed now)"},
	"ev.publish":            {"发布本月评价", "Publish this month"},
	"ev.rise":               {"提升 %.1f 分", "up %.1f"},
	"act.publish":           {"发布", "Publish"},
	"au.title":              {"审计记录", "Audit trail"},
	"au.verify":             {"校验", "Verify"},
	"au.ok":                 {"校验通过：%d 条记录、%d 个签名检查点完好", "Intact: %d entries and %d signed checkpoints check out"},
	"au.bad":                {"校验失败：第 %d 条起有问题（%s）", "Broken from entry %d: %s"},
	"au.bad_nofirst":        {"校验失败：%s", "Broken: %s"},
	"au.when":               {"时间", "When"},
	"au.who":                {"操作人", "Who"},
	"au.what":               {"操作", "Action"},
	"au.object":             {"对象", "Object"},
	"au.outcome":            {"结果", "Outcome"},
	"au.older":              {"更早", "Older"},
	"err.title":             {"出错了", "Something went wrong"},
	"err.404":               {"找不到这个页面，或者您无权查看。", "There is no such page, or it is not yours to see."},
	"err.403":               {"您没有权限进行此操作。", "You may not do this."},
	"err.csrf":              {"表单已过期或来源不明，请刷新页面后重试。", "The form expired or did not come from this site; reload the page and try again."},
	"err.400":               {"请求有误：%s", "Bad request: %s"},
	"err.413":               {"文件太大。", "The file is too large."},
	"err.500":               {"服务器出错，请稍后再试。", "The server failed; try again later."},
	"err.503":               {"服务暂时不可用，请稍后再试。", "The service is unavailable for a moment; try again."},
	"err.back":              {"返回首页", "Back to the start"},
}

// statusLabel reuses the domain's Chinese names of statuses.
func statusLabel(lang string, s domain.Status) string {
	if lang == langEN {
		return map[domain.Status]string{
			domain.StatusRegistered: "Registered", domain.StatusAssigned: "Assigned", domain.StatusRectifying: "Rectifying",
			domain.StatusSubmitted: "Submitted", domain.StatusClosed: "Closed", domain.StatusDismissed: "Dismissed",
		}[s]
	}
	return s.Label()
}

// translate looks a message up; args fill its verbs.
func translate(lang, id string, args ...any) string {
	m, ok := catalogue[id]
	if !ok {
		return id
	}
	s := m[0]
	if lang == langEN && m[1] != "" {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

const langCookie = "rectify_lang"

// language picks the console's language: ?lang= (remembered in a cookie),
// then the cookie, then Chinese.
func language(w http.ResponseWriter, r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langZH || l == langEN {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		return l
	}
	if c, err := r.Cookie(langCookie); err == nil && c.Value == langEN {
		return langEN
	}
	return langZH
}
