package domain

// The Chinese names users see for statuses, severities, sources and warning
// levels, in one place: the ledger, the import, the messages and any face
// use these. A value without a name shows as itself.

var (
	statusLabels = map[Status]string{StatusRegistered: "已登记", StatusAssigned: "已交办", StatusRectifying: "整改中",
		StatusSubmitted: "待验收", StatusClosed: "已销号", StatusDismissed: "不予立项"}
	severityLabels = map[Severity]string{SeverityGeneral: "一般", SeveritySerious: "较重", SeverityCritical: "严重"}
	sourceLabels   = map[Source]string{SourceSelfCheck: "自查", SourceSpotCheck: "抽查", SourceInspection: "检查",
		SourceSupervision: "督查", SourceReport: "反映"}
	warningLabels = map[WarningLevel]string{WarningRed: "红灯", WarningYellow: "黄灯", WarningGreen: "绿灯"}
)

func label[K ~string](labels map[K]string, k K) string {
	if l, ok := labels[k]; ok {
		return l
	}
	return string(k)
}

// Label is the Chinese name users see.
func (s Status) Label() string { return label(statusLabels, s) }

// Label is the Chinese name users see: 一般, 较重, 严重.
func (s Severity) Label() string { return label(severityLabels, s) }

// Label is the Chinese name users see: 自查, 抽查, 检查, 督查, 反映.
func (s Source) Label() string { return label(sourceLabels, s) }

// Label is the Chinese name users see: 红灯, 黄灯, 绿灯; "" for no warning.
func (w WarningLevel) Label() string { return label(warningLabels, w) }
