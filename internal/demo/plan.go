package demo

import (
	"github.com/rectify-team/rectify/internal/app"
	"github.com/rectify-team/rectify/internal/domain"
)

// The demo's content, drawn from the department's 作风建设提升年 plan
// (shared/seed/000_a30a5736080cb4ec.txt) and copied here so that the binary
// never reads outside the project. Times are days after the start of the
// history (history days before today, see demo.go) and a local clock time; deadlines are
// the same kind of day number. With the history 56 days long, today is day 56:
// a deadline before day 56 is overdue (red), days 56-59 show yellow.

// unitSpec is one unit below the root unit created at first start.
type unitSpec struct {
	name   string
	parent string // "" for the root unit
}

var demoUnits = []unitSpec{
	{"智电业务部", ""},
	{"综合室", "智电业务部"},
	{"智电一班", "智电业务部"},
	{"智电二班", "智电业务部"},
	{"智电三班", "智电业务部"},
}

// userSpec is one demo account. Passwords are fixed and printed: demo only.
type userSpec struct {
	username string
	password string
	name     string
	post     string // what the person is in the plan
	roles    []string
	unit     string
}

var demoUsers = []userSpec{
	{"wangjianguo", "demo-wangjianguo", "王建国", "部门负责人，作风建设第一责任人", []string{"leader"}, "智电业务部"},
	{"liwenhua", "demo-liwenhua", "李文华", "作风建设工作小组（专业负责人）", []string{"verifier"}, "综合室"},
	{"chenjing", "demo-chenjing", "陈静", "作风建设工作小组（专业负责人）", []string{"verifier"}, "综合室"},
	{"zhaomin", "demo-zhaomin", "赵敏", "纪律检查员，登记检查、抽查发现的问题", []string{"inspector"}, "综合室"},
	{"wugang", "demo-wugang", "吴刚", "部门副主任，部门层面问题责任人", []string{"owner"}, "智电业务部"},
	{"zhengjie", "demo-zhengjie", "郑洁", "综合室负责人", []string{"owner"}, "综合室"},
	{"liuyang", "demo-liuyang", "刘洋", "智电一班班长", []string{"owner"}, "智电一班"},
	{"sunlei", "demo-sunlei", "孙磊", "智电二班班长", []string{"owner"}, "智电二班"},
	{"zhouting", "demo-zhouting", "周婷", "智电三班班长", []string{"owner"}, "智电三班"},
}

// problemSpec is one problem and its planned path through the lifecycle.
type problemSpec struct {
	title       string
	description string
	category    string // category code, e.g. SXZZ-01
	severity    domain.Severity
	source      domain.Source
	unit        string
	found       int  // day found
	registered  when // when it was registered (登记)
	by          string
	steps       []step
	want        domain.Status // where the path ends; Load checks it
}

const (
	general  = domain.SeverityGeneral
	serious  = domain.SeveritySerious
	critical = domain.SeverityCritical

	selfCheck   = domain.SourceSelfCheck
	spotCheck   = domain.SourceSpotCheck
	inspection  = domain.SourceInspection
	supervision = domain.SourceSupervision
	report      = domain.SourceReport
)

// Measures (整改措施) quoted from 三、提升举措.
const (
	measureTheory = "加强理论研究：将学深悟透习近平新时代中国特色社会主义思想作为首要任务，把贯彻党的二十大精神作为重点。" +
		"在“三会一课”等规定动作外，依托读书会开展多种形式的分享活动，号召智电标兵讲述自己及身边党员的优秀事迹，" +
		"创新开展“剧本杀”等沉浸式红色教育，做到党史学习教育不停步。"
	measurePolicy = "加强政策研学：聚焦中央、国网和行业，开展“三学习三增强”活动，将新兴业务学习与读书会有机结合，" +
		"集中学习公司的新政策、新文件，把重点工作部署谋划与“中央精神”紧密结合，切实将上级要求体现到中心高质量发展的实践中。"
	measureResearch = "开展调查研究：深入市县公司一线开展调查研究，掌握一线业务需求、查找专业短板；组织“走出去”学习，" +
		"到江苏、浙江、广东等省份调研用户侧需求响应资金分摊机制、需求响应系统运营模式，查找差距并谋划提升举措。"
	measureExecution = "提升工作执行力：开展“我为一线服务”主题实践活动；建立与发改委等部门的常态化沟通机制，" +
		"积极争取政府出台需求响应政策，挂图作战、倒排工期，推动需求响应市场常态化运作。"
	measureBenchmark = "开展“向公司本部看齐”活动，在人员敏感性、上传下达及时性、重要事项成效、公文写作质量、信息报送等方面提高标准；" +
		"各班组修订岗位工作标准，班前会对照查摆“过得去”的问题。"
	measureCoordination = "深入贯彻落实内控机制建设，梳理同质性业务流程，汇同中心各专业部门明确营销全业务监控范畴；" +
		"列出涉及部门间统筹协调的事项清单，明确牵头人，不再把可协调解决的问题上交中心。"
	measureEvaluation = "开展多维评价：建立智电业务多维业绩评价体系，从工作量、准确率、及时率及特殊工作贡献等方面评价三个智电班组及班内人员，" +
		"每月评价结果应用于标兵会月度标兵及进步之星评选。"
	measureInnovation = "开展创新创效：依托职工创新工作室、青年创新工作室，围绕新型电力系统建设等前沿资讯开展主旨论坛、创新沙龙；" +
		"制定机器学习、AI 等新技术学习计划，每季度形成一项可落地的创新成果。"
	measureIntegrity = "树牢廉政意识：制定《“五要五不要”作风承诺》，在工作场所轮显，并以卡片形式下发至每名员工，确保熟知熟记、入脑入心；" +
		"梳理抄核收考核、营业厅监控考核及厂商支撑业务的廉洁风险点。"
	measureRules = "树牢规矩意识：组织部门员工集中学习、研讨规章制度；不定期开展工作纪律检查、抽查，" +
		"严肃处理无故迟到早退、脱岗串岗等情况，并在部门公告公示栏通报。"
)

var demoProblems = []problemSpec{
	// 二、部门存在的问题分析 — the ten problems of the plan, one per category item.
	{
		title:       "学习意识仍需加强",
		description: "对党的创新理论学习不够重视，对如何运用理论思之不深、研之不透，存在“重业务、轻理论”的情况，需进一步增强政治理论武装，不断提高政治判断力、政治领悟力、政治执行力。",
		category:    "SXZZ-01", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "09:10"), by: "zhaomin",
		steps: []step{
			assign(on(1, "10:00"), "liwenhua", "zhengjie", 30, measureTheory),
			accept(on(1, "15:20"), "zhengjie", "已签收，纳入部门读书会年度计划。"),
			progress(on(8, "17:00"), "zhengjie", 30, "制定读书会年度计划，完成第一次“三学习三增强”集中学习。"),
			comment(on(9, "09:40"), "wangjianguo", "红色教育可以结合“剧本杀”形式，让青年党员多参与。"),
			progress(on(18, "16:30"), "zhengjie", 60, "组织沉浸式红色教育一次，智电标兵分享先进事迹 2 人次。"),
			submit(on(26, "11:00"), "zhengjie", "读书会已形成每周一次的常态机制，学习记录、签到表和活动照片已归档。"),
			pass(on(28, "10:00"), "chenjing", "资料齐全，学习记录完整，同意销号。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "大局意识仍需提升",
		description: "在理解把握上级决策部署和文件制度要求上还有差距，对文件精神研究不深、思考不透，对时事、政策的敏感性不强，用全局视野谋划工作的意识和能力还有欠缺。",
		category:    "SXZZ-02", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "09:20"), by: "zhaomin",
		steps: []step{
			assign(on(1, "10:10"), "liwenhua", "wugang", 40, measurePolicy),
			accept(on(2, "09:00"), "wugang", "签收。"),
			progress(on(15, "15:00"), "wugang", 40, "已集中学习公司新政策、新文件 2 次。"),
			submit(on(38, "17:30"), "wugang", "已开展政策研学 4 次，形成学习心得汇编。"),
			fail(on(40, "10:30"), "chenjing", "学习心得与重点工作结合不够，未体现把上级要求落实到工作谋划中，请补充对照材料。"),
			progress(on(44, "16:00"), "wugang", 90, "补充重点工作谋划与上级部署对照表。"),
			submit(on(46, "11:00"), "wugang", "对照表已补充，并在部门周例会上通报。"),
			pass(on(47, "15:00"), "liwenhua", "补充材料符合要求，同意销号；超期完成，纳入月度评价。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "眼界思路仍需拓宽",
		description: "面对新课题、新问题，习惯于用老思路、老办法，依赖现成经验，线上、远程工作多，实地调研少，深入一线察实情、办实事的力度有所欠缺，工作不够接地气。",
		category:    "SXZZ-03", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "09:30"), by: "zhaomin",
		steps: []step{
			assign(on(2, "09:30"), "liwenhua", "wugang", 45, measureResearch),
			accept(on(2, "14:00"), "wugang", "签收，先排市县公司调研计划。"),
			progress(on(12, "17:00"), "wugang", 20, "市县公司一线调研计划已定，已走访 2 家县公司。"),
			requestExtension(on(39, "10:00"), "wugang", 70, "赴江苏、浙江、广东调研需协调对方单位时间，原定行程推迟。"),
			approveExtension(on(40, "09:30"), "liwenhua", "情况属实，同意延期。"),
			progress(on(50, "16:00"), "wugang", 45, "已完成江苏调研，需求响应资金分摊机制调研报告初稿完成。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "有“等靠”思想",
		description: "对公司、中心重大决策部署缺乏深入研究思考，思想消极，行动迟缓；贯彻上级部署要求照搬照抄，未深入了解情况，未研究具体落实措施；对一些已经明确要求推进的重点工作，等文件、等通知、等安排，未主动作为。",
		category:    "DDZW-01", severity: serious, source: supervision, unit: "智电业务部",
		found: 3, registered: on(3, "10:00"), by: "zhaomin",
		steps: []step{
			assign(on(4, "09:00"), "chenjing", "wugang", 35, measureExecution),
			accept(on(4, "16:00"), "wugang", "签收。"),
			progress(on(20, "17:00"), "wugang", 30, "已梳理需求响应政策推进节点，建立挂图作战表。"),
			urge(on(33, "09:00"), "liwenhua", "整改期限将至，请加快与发改委常态化沟通机制建设。"),
			comment(on(36, "10:00"), "wangjianguo", "此项请吴刚同志亲自抓，每周向工作小组报送进展。"),
			progress(on(41, "17:30"), "wugang", 50, "已与发改委对接一次，需求响应政策草案待对方反馈。"),
			urge(on(49, "09:15"), "chenjing", "已逾期，请书面说明原因并明确完成时间。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "有“守摊”思想",
		description: "工作标准不高，满足于一般化，只求过得去，不求过得硬，工作平推平庸。有的小富即安、小成即满，看不到工作中存在的问题；有的守着自己的“一亩三分地”在岗位上无所作为，机械工作，专业水平未有提升。",
		category:    "DDZW-02", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "09:40"), by: "zhaomin",
		steps: []step{
			assign(on(5, "10:00"), "liwenhua", "liuyang", 59, measureBenchmark),
			accept(on(6, "09:00"), "liuyang", "签收，由智电一班先行试点。"),
			progress(on(20, "16:00"), "liuyang", 40, "一班岗位工作标准修订完成，二、三班征求意见中。"),
			progress(on(40, "16:00"), "liuyang", 80, "三个班组岗位标准均已修订，班前会查摆问题 12 条。"),
			submit(on(54, "15:30"), "liuyang", "岗位标准已印发执行，班前会查摆问题清单及整改情况附后。"),
		},
		want: domain.StatusSubmitted,
	},
	{
		title:       "有本位主义思想",
		description: "有些工作满足于“让干什么就干什么”，缺乏系统性思考。从个人考虑问题多，站在中心考虑问题少，对于涉及部门间统筹协调的事情缺乏主动性，有些问题习惯于上交中心层面来解决。",
		category:    "DDZW-03", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "09:50"), by: "zhaomin",
		steps: []step{
			comment(on(1, "11:00"), "liwenhua", "需先明确部门间统筹协调事项清单，再行交办。"),
			assign(on(43, "09:30"), "liwenhua", "sunlei", 57, measureCoordination),
			urge(on(55, "10:00"), "chenjing", "交办已近两周仍未签收，请尽快签收并制定措施。"),
		},
		want: domain.StatusAssigned,
	},
	{
		title:       "争先劲头不够足",
		description: "中心作为窗口、形象单位，各方面工作备受瞩目。在工作谋划推进上，“争第一、当标杆、作表率”的意识树的还不够牢，工作标准还不够高，工作质量和成效和中心定位还不够匹配。",
		category:    "ZXQJ-01", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "10:00"), by: "zhaomin",
		steps: []step{
			assign(on(2, "10:00"), "chenjing", "zhengjie", 32, measureEvaluation),
			accept(on(3, "09:00"), "zhengjie", "签收。"),
			progress(on(14, "17:00"), "zhengjie", 50, "智电业务多维业绩评价体系初稿完成，已征求三个班组意见。"),
			submit(on(27, "16:00"), "zhengjie", "评价体系已印发，首月评价已完成并在作风看板公示。"),
			pass(on(29, "09:30"), "liwenhua", "同意销号。"),
			reopen(on(50, "10:00"), "liwenhua", 70, "回头看：月度评价结果未应用于标兵会月度标兵及进步之星评选，整改不彻底。"),
			comment(on(51, "14:00"), "zhengjie", "已与标兵会对接，下月起评选以评价结果为依据。"),
			progress(on(53, "16:00"), "zhengjie", 60, "评选办法已修订，待标兵会审议。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "争先能力有欠缺",
		description: "对最新形势、前沿知识关注不够，学习主动性不强，对当下新兴专业研究不透，如机器学习、AI 等先进技术缺乏系统性和前瞻性的学习研究，不能很好适应改革发展工作。",
		category:    "ZXQJ-02", severity: general, source: selfCheck, unit: "智电业务部",
		found: 0, registered: on(0, "10:10"), by: "zhaomin",
		steps: []step{
			assign(on(6, "09:30"), "liwenhua", "zhouting", 58, measureInnovation),
			accept(on(6, "15:00"), "zhouting", "签收。"),
			progress(on(25, "17:00"), "zhouting", 40, "组织 AI 技术专题学习 2 次，创新沙龙 1 次。"),
			requestExtension(on(54, "09:30"), "zhouting", 75, "省公司 AI 培训班排期调整至下月，需参训后完成成果转化。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "廉洁风险认识不够",
		description: "部门内部有些业务需要设备厂商做支撑，对供电单位抄核收业务、营业厅监控业务有考核，存在一定的廉洁风险，廉政自律方面还需要警钟长鸣。",
		category:    "ZGSJ-01", severity: serious, source: inspection, unit: "智电业务部",
		found: 1, registered: on(1, "09:00"), by: "zhaomin",
		steps: []step{
			assign(on(1, "14:00"), "chenjing", "wugang", 16, measureIntegrity),
			accept(on(2, "08:50"), "wugang", "签收。"),
			progress(on(8, "17:00"), "wugang", 70, "《“五要五不要”作风承诺》已制定，卡片印制中。"),
			submit(on(13, "16:00"), "wugang", "承诺卡片已下发至每名员工并在工作场所轮显，廉洁风险点排查表已建立。"),
			pass(on(15, "10:00"), "liwenhua", "现场抽查员工熟知情况良好，同意销号。"),
			recheck(on(46, "10:30"), "chenjing", app.ResultHolds, "回头看：随机询问 6 名员工，均能说出本岗位廉洁风险点，承诺卡片仍在轮显，未见反弹。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "规矩意识还有缺位",
		description: "学习规章制度不够深入，运用法治思维、规矩意识解决问题的能力不足，在管理中更多还是靠经验、凭习惯。违反规章制度要求、不按规定履行程序等不讲规矩的情况时有发生。",
		category:    "ZGSJ-02", severity: serious, source: inspection, unit: "智电业务部",
		found: 1, registered: on(1, "09:10"), by: "zhaomin",
		steps: []step{
			assign(on(30, "10:00"), "chenjing", "zhengjie", 56, measureRules),
			accept(on(31, "09:00"), "zhengjie", "签收。"),
			progress(on(40, "17:00"), "zhengjie", 40, "组织规章制度集中学习 1 次、研讨 1 次。"),
			progress(on(52, "17:00"), "zhengjie", 70, "工作纪律检查、抽查机制已建立，首轮抽查完成。"),
		},
		want: domain.StatusRectifying,
	},

	// Concrete problems found by the measures and the discipline checks.
	{
		title:       "电费差错未及时查摆",
		description: "抽查发现：供电单位电费核算差错通报后，智电一班未及时查摆原因，差错台账未更新，同类差错重复出现。",
		category:    "DDZW-02", severity: serious, source: spotCheck, unit: "智电一班",
		found: 8, registered: on(9, "10:00"), by: "zhaomin",
		steps: []step{
			assign(on(10, "09:00"), "liwenhua", "liuyang", 25, "建立电费差错日清日结台账，逐笔分析差错原因并反馈供电单位，同类差错纳入班组月度评价准确率。"),
			accept(on(10, "11:00"), "liuyang", "签收，今天开始逐笔复核。"),
			progress(on(18, "17:00"), "liuyang", 50, "近三个月差错已逐笔复核，原因分类完成。"),
			submit(on(28, "17:00"), "liuyang", "差错台账已建立，原因分析报告已反馈供电单位。"),
			pass(on(29, "10:00"), "chenjing", "整改到位，但超期 4 天，纳入月度评价及时率。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "营业厅监控异常响应慢",
		description: "检查发现：营业厅音视频监控告警后，值班人员平均 20 分钟以上才响应，1 起服务风险未能及时发现处置。",
		category:    "DDZW-01", severity: critical, source: inspection, unit: "智电二班",
		found: 47, registered: on(47, "09:30"), by: "zhaomin",
		steps: []step{
			assign(on(47, "14:00"), "chenjing", "sunlei", 54, "明确营业厅监控异常分级响应时限（5 分钟内响应），建立值班响应台账，每日复盘。"),
			accept(on(47, "16:00"), "sunlei", "签收。"),
			requestExtension(on(50, "09:00"), "sunlei", 62, "监控平台告警推送需厂家升级，厂家排期在下周。"),
			rejectExtension(on(50, "15:00"), "liwenhua", "严重问题不予延期；请先落实人工巡屏措施，厂家升级另行跟进。"),
			progress(on(52, "17:00"), "sunlei", 60, "已落实人工巡屏，每半小时巡视一次。"),
			urge(on(55, "09:00"), "liwenhua", "已逾期，请于本周内提交整改材料。"),
			comment(on(55, "10:30"), "zhaomin", "昨日抽查仍有 1 起告警超过 15 分钟未响应。"),
			progress(on(55, "17:00"), "sunlei", 70, "响应时限已纳入交接班内容，超时告警逐条说明。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "外委人员管理不到位",
		description: "督查发现：外委人员任务发派、执行及提交缺少记录，沟通不畅；部分外委人员未签订廉洁告知书。",
		category:    "ZGSJ-01", severity: serious, source: supervision, unit: "智电三班",
		found: 30, registered: on(30, "10:00"), by: "zhaomin",
		steps: []step{
			assign(on(31, "09:00"), "liwenhua", "zhouting", 46, "完善外委人员管理台账，任务发派、执行、提交全流程留痕；全员签订廉洁告知书。"),
			accept(on(31, "14:00"), "zhouting", "签收。"),
			progress(on(38, "17:00"), "zhouting", 60, "外委人员台账已建立，任务派发改为线上留痕。"),
			submit(on(45, "16:00"), "zhouting", "台账、派工记录、廉洁告知书已整理齐全。"),
			fail(on(47, "10:00"), "chenjing", "廉洁告知书签订不全（缺 2 人），请补齐后再提交。"),
			progress(on(50, "11:00"), "zhouting", 90, "已联系外委单位补签。"),
			submit(on(53, "15:00"), "zhouting", "2 名外委人员已补签廉洁告知书，材料已补充。"),
			comment(on(53, "15:10"), "zhouting", "补签材料扫描件已上传，原件在综合室存档。"),
		},
		want: domain.StatusSubmitted,
	},
	{
		title:       "无故迟到早退",
		description: "工作纪律抽查：智电二班 2 名员工当日 8:40 后到岗，未履行请假手续。",
		category:    "ZGSJ-02", severity: general, source: spotCheck, unit: "智电二班",
		found: 14, registered: on(14, "08:50"), by: "zhaomin",
		steps: []step{
			assign(on(14, "14:00"), "chenjing", "sunlei", 29, "当事人作出书面说明；班组重申考勤纪律，在部门公告公示栏通报。"),
			accept(on(15, "09:00"), "sunlei", "签收。"),
			submit(on(18, "16:00"), "sunlei", "当事人已书面检讨，已在部门公告公示栏通报，班前会重申考勤纪律。"),
			pass(on(19, "10:00"), "liwenhua", "同意销号。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "脱岗串岗",
		description: "工作纪律抽查：智电三班 1 名员工不在岗，未见请假记录。",
		category:    "ZGSJ-02", severity: general, source: spotCheck, unit: "智电三班",
		found: 21, registered: on(21, "10:30"), by: "zhaomin",
		steps: []step{
			dismiss(on(22, "09:00"), "liwenhua", "经核实，当事人当日经班长批准参加重要用户保电任务，有派工单为证，不予立项。"),
		},
		want: domain.StatusDismissed,
	},
	{
		title:       "公文写作质量不高",
		description: "中心办公室反映：部门近期上报的材料多处格式不规范、数据前后不一致，未达到“向公司本部看齐”的标准。",
		category:    "DDZW-02", severity: general, source: report, unit: "综合室",
		found: 20, registered: on(20, "11:00"), by: "liwenhua",
		steps: []step{
			assign(on(21, "09:00"), "chenjing", "zhengjie", 62, "建立公文三级审核制度，组织公文写作培训，对近期材料逐份复核。"),
			accept(on(21, "14:00"), "zhengjie", "签收。"),
			progress(on(30, "17:00"), "zhengjie", 50, "公文写作培训已组织 1 次。"),
			submit(on(42, "16:00"), "zhengjie", "已开展公文写作培训，建立三级审核制度。"),
			fail(on(44, "10:00"), "liwenhua", "抽查近期上报材料仍有格式错误 2 处，三级审核未严格执行，退回。"),
			progress(on(49, "17:00"), "zhengjie", 80, "对近一个月公文逐份复核，审核签字单已补齐。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "信息报送不及时",
		description: "督查发现：部门向工作小组报送作风建设进展、成效和问题时多次晚于规定时间，上传下达不及时。",
		category:    "SXZZ-02", severity: general, source: supervision, unit: "综合室",
		found: 51, registered: on(52, "10:00"), by: "zhaomin",
		steps: []step{
			edit(on(53, "09:00"), "zhaomin", serious),
		},
		want: domain.StatusRegistered,
	},
	{
		title:       "迎检设备状态未及时检查",
		description: "检查发现：迎检前未检查营业厅监控设备状态，2 台设备离线未及时发现，“以单位为家”的主人翁意识不强。",
		category:    "DDZW-03", severity: general, source: inspection, unit: "智电一班",
		found: 54, registered: on(54, "15:00"), by: "zhaomin",
		steps: []step{
			comment(on(55, "09:00"), "chenjing", "待核实设备台账后交办。"),
		},
		want: domain.StatusRegistered,
	},
	{
		title:       "外来人员进出办公区未登记",
		description: "检查发现：办公区外来人员进出未登记，外委厂商人员可自由出入机房区域。",
		category:    "ZGSJ-02", severity: general, source: inspection, unit: "综合室",
		found: 30, registered: on(30, "11:00"), by: "zhaomin",
		steps: []step{
			assign(on(31, "10:00"), "chenjing", "zhengjie", 61, "落实外来人员登记制度，机房区域凭证出入。"),
			dismiss(on(33, "09:00"), "liwenhua", "经工作小组研究，该问题与“外委人员管理不到位”（智电三班）同源，并入该问题统一整改，本条不予立项。"),
		},
		want: domain.StatusDismissed,
	},
	{
		title:       "抄核收考核数据未复核",
		description: "反映：对供电单位抄核收业务的考核数据由单人出具，未经复核即发布，存在廉洁风险。",
		category:    "ZGSJ-01", severity: serious, source: report, unit: "智电一班",
		found: 52, registered: on(52, "11:00"), by: "zhaomin",
		steps: []step{
			assign(on(53, "10:00"), "liwenhua", "liuyang", 68, "考核数据实行双人复核、留痕发布；考核规则在发布前向供电单位公开。"),
		},
		want: domain.StatusAssigned,
	},
	{
		title:       "全业务监控发现问题未闭环跟踪",
		description: "检查发现：营销全业务监控发现的异常问题，派发后未跟踪整改结果，等供电单位反馈，部分问题超过一个月无下文。",
		category:    "DDZW-01", severity: general, source: inspection, unit: "智电三班",
		found: 35, registered: on(35, "14:00"), by: "zhaomin",
		steps: []step{
			assign(on(36, "09:30"), "chenjing", "zhouting", 66, "建立监控异常问题闭环跟踪台账，逾期未反馈的问题每周催办并向工作小组报送。"),
			accept(on(37, "09:00"), "zhouting", "签收。"),
			progress(on(45, "17:00"), "zhouting", 30, "闭环跟踪台账已建立，历史问题清理中。"),
			progress(on(53, "17:00"), "zhouting", 55, "历史问题已清理过半。"),
		},
		want: domain.StatusRectifying,
	},
	{
		title:       "智电班组月度评价结果未公示",
		description: "自查发现：三个智电班组的月度评价结果只在班长间传阅，未在作风看板公示。",
		category:    "ZXQJ-01", severity: general, source: selfCheck, unit: "综合室",
		found: 16, registered: on(16, "09:30"), by: "zhaomin",
		steps: []step{
			assign(on(17, "09:00"), "liwenhua", "zhengjie", 47, "每月评价结果在作风看板及部门公告栏公示。"),
			accept(on(17, "10:30"), "zhengjie", "签收。"),
			submit(on(24, "16:00"), "zhengjie", "本月评价结果已在作风看板公示。"),
			pass(on(25, "09:00"), "chenjing", "已现场查看，同意销号。"),
		},
		want: domain.StatusClosed,
	},
	{
		title:       "全业务监控分析报告照搬模板",
		description: "抽查发现：智电二班月度全业务监控分析报告照搬上月模板，数据更新但分析结论未变，未研究具体落实措施。",
		category:    "DDZW-01", severity: general, source: spotCheck, unit: "智电二班",
		found: 38, registered: on(38, "10:00"), by: "zhaomin",
		steps: []step{
			assign(on(39, "09:00"), "chenjing", "sunlei", 69, "重新编写本月分析报告，结论须对应本月数据并提出落实措施；建立报告互审。"),
			accept(on(40, "09:00"), "sunlei", "签收。"),
			progress(on(46, "17:00"), "sunlei", 50, "本月分析报告已重写，互审机制试行中。"),
			submit(on(55, "14:00"), "sunlei", "分析报告已重新编写并互审，报告附后。"),
		},
		want: domain.StatusSubmitted,
	},
}
