"""The pages' words in Chinese and English.

The language comes from ``?lang=zh|en`` (then remembered in a cookie), else the cookie, else
Chinese. Every label of every page is a key of :data:`TEXT`; a missing key is a bug, so
:func:`translator` raises instead of showing the key.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_COOKIE = "jingce_lang"

TEXT: dict[str, tuple[str, str]] = {
    # layout
    "app.name": ("精测", "jingce"),
    "app.tagline": ("开放的工业测量体系", "Open industrial measurement system"),
    "nav.dashboard": ("企业看板", "Dashboard"),
    "nav.region": ("区域监管", "Region"),
    "nav.parts": ("零件追溯", "Part lineage"),
    "nav.instruments": ("计量器具", "Instruments"),
    "nav.labs": ("实验室名录", "Labs"),
    "nav.supervision": ("实验室监管", "Lab supervision"),
    "nav.market": ("计量服务市场", "Service market"),
    "nav.planner": ("测量能力规划", "Measurement planner"),
    "nav.calibration": ("校准管理", "Calibration"),
    "nav.quality": ("质量溯源", "Root cause"),
    "nav.notifications": ("通知", "Notifications"),
    "nav.api": ("API 文档", "API docs"),
    "nav.logout": ("退出", "Log out"),
    "nav.signed_in_as": ("当前用户", "Signed in as"),
    "lang.switch": ("English", "中文"),
    "role.enterprise_user": ("企业用户", "enterprise user"),
    "role.enterprise_admin": ("企业管理员", "enterprise admin"),
    "role.lab": ("实验室", "lab"),
    "role.regulator": ("监管部门", "regulator"),
    "role.admin": ("平台管理员", "platform admin"),
    # login
    "login.title": ("登录", "Log in"),
    "login.username": ("用户名", "User name"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.failed": ("用户名或密码错误", "Wrong user name or password"),
    "login.too_many": ("登录失败次数过多，请稍后再试", "Too many failed logins; wait a few minutes"),
    "login.csrf": ("表单已过期，请重新提交", "The form has expired; please submit it again"),
    "login.hint": ("制造企业、计量实验室与监管部门共用的测量数据平台",
                   "One measurement platform for manufacturers, metrology labs and the regulator"),
    # errors
    "error.title": ("出错了", "Something went wrong"),
    "error.404": ("未找到该页面或数据", "Page or data not found"),
    "error.403": ("您的角色无权访问此页面", "Your role may not open this page"),
    "error.400": ("请求无效", "Invalid request"),
    "error.back": ("返回首页", "Back to the start page"),
    # common
    "common.code": ("代码", "Code"),
    "common.name": ("名称", "Name"),
    "common.enterprise": ("企业", "Enterprise"),
    "common.product": ("产品", "Product"),
    "common.status": ("状态", "Status"),
    "common.unit": ("单位", "Unit"),
    "common.time": ("时间", "Time"),
    "common.value": ("测量值", "Value"),
    "common.kind": ("类型", "Kind"),
    "common.loading": ("正在加载…", "Loading…"),
    "common.none": ("无", "None"),
    "common.apply": ("应用", "Apply"),
    "common.start": ("开始", "Start"),
    "common.end": ("结束", "End"),
    "common.all": ("全部", "All"),
    "common.details": ("详情", "Details"),
    "common.load_failed": ("数据加载失败", "Could not load the data"),
    "common.chain": ("产业链", "Industry chain"),
    "common.n": ("样本量", "n"),
    "common.search": ("查询", "Search"),
    "common.yes": ("是", "yes"),
    "common.no": ("否", "no"),
    # dashboard
    "dash.title": ("企业质量看板", "Enterprise quality dashboard"),
    "dash.characteristics": ("质量特性与过程能力", "Characteristics and capability"),
    "dash.alarms": ("未处理报警", "Open alarms"),
    "dash.instruments_due": ("待校准器具", "Instruments due for calibration"),
    "dash.kpi.characteristics": ("质量特性", "Characteristics"),
    "dash.kpi.capable": ("能力充足 (绿)", "Capable (green)"),
    "dash.kpi.marginal": ("能力临界 (黄)", "Marginal (yellow)"),
    "dash.kpi.incapable": ("能力不足 (红)", "Not capable (red)"),
    "dash.kpi.alarms": ("未处理报警", "Open alarms"),
    "dash.kpi.due": ("到期/超期器具", "Instruments due/overdue"),
    "dash.light": ("能力", "Capability"),
    "dash.alarm_count": ("报警数", "Alarms"),
    "dash.rule": ("判异规则", "Rule"),
    "dash.valid_until": ("有效期至", "Valid until"),
    "dash.no_alarms": ("没有未处理的报警", "No open alarms"),
    "dash.no_due": ("没有到期的器具", "No instrument is due"),
    "dash.light_legend": ("绿：Cpk ≥ 1.33；黄：1.00 ≤ Cpk < 1.33；红：Cpk < 1.00；灰：数据不足",
                          "green: Cpk ≥ 1.33; yellow: 1.00 ≤ Cpk < 1.33; red: Cpk < 1.00; grey: too few data"),
    "dash.choose_enterprise": ("选择企业", "Choose an enterprise"),
    "dash.acknowledge": ("确认", "Acknowledge"),
    "status.due": ("即将到期", "due"),
    "status.overdue": ("已超期", "overdue"),
    # control chart
    "chart.title": ("控制图与过程能力", "Control chart and capability"),
    "chart.type": ("控制图", "Chart"),
    "chart.auto": ("自动", "automatic"),
    "chart.subgroup_size": ("子组容量", "Subgroup size"),
    "chart.spec": ("规格", "Specification"),
    "chart.nominal": ("名义值", "Nominal"),
    "chart.lsl": ("下限 LSL", "LSL"),
    "chart.usl": ("上限 USL", "USL"),
    "chart.capability": ("过程能力 (ISO 22514-2)", "Process capability (ISO 22514-2)"),
    "chart.histogram": ("分布与规格限", "Distribution and specification limits"),
    "chart.violations": ("判异点", "Rule violations"),
    "chart.no_violations": ("无判异点：过程处于统计受控状态", "No rule violated: the process is in statistical control"),
    "chart.index": ("序号", "No."),
    "chart.rules": ("违反规则", "Rules"),
    "chart.limits_source": ("控制限来源", "Limits from"),
    "chart.points": ("点数", "Points"),
    "chart.mean": ("均值", "Mean"),
    "chart.sigma_within": ("组内标准差", "σ within"),
    "chart.sigma_overall": ("总体标准差", "σ overall"),
    "chart.ppm": ("预计不合格 (ppm)", "Expected out of spec (ppm)"),
    "chart.ci": ("95% 置信区间", "95% confidence interval"),
    "chart.normality": ("正态性检验 p 值", "Normality test p-value"),
    "chart.index_col": ("指数", "Index"),
    "chart.estimate": ("估计值", "Estimate"),
    "chart.center": ("中心线", "Centre line"),
    "chart.phase_i": ("第一阶段 (由本数据估计)", "phase I (estimated from these values)"),
    "chart.frozen": ("冻结控制限", "frozen limits"),
    "chart.rules_note": ("Nelson 判异规则 (ISO 7870-2 附录 B)", "Nelson rules (ISO 7870-2 Annex B)"),
    "rule.1": ("规则 1：1 点超出 3σ 控制限", "Rule 1: one point beyond 3σ"),
    "rule.2": ("规则 2：连续 9 点在中心线同一侧", "Rule 2: nine points in a row on one side of the centre line"),
    "rule.3": ("规则 3：连续 6 点递增或递减", "Rule 3: six points in a row steadily increasing or decreasing"),
    "rule.4": ("规则 4：连续 14 点交替上下", "Rule 4: fourteen points in a row alternating up and down"),
    "rule.5": ("规则 5：连续 3 点中有 2 点超出 2σ (同侧)", "Rule 5: two of three points beyond 2σ on one side"),
    "rule.6": ("规则 6：连续 5 点中有 4 点超出 1σ (同侧)", "Rule 6: four of five points beyond 1σ on one side"),
    "rule.7": ("规则 7：连续 15 点在 1σ 以内", "Rule 7: fifteen points in a row within 1σ"),
    "rule.8": ("规则 8：连续 8 点在 1σ 以外 (两侧)", "Rule 8: eight points in a row beyond 1σ on either side"),
    "chart.empty": ("该时间段内没有测量值", "No measurements in this period"),
    # lineage
    "parts.title": ("零件追溯", "Part lineage"),
    "parts.serial": ("序列号", "Serial number"),
    "parts.part_number": ("零件号 (可选)", "Part number (optional)"),
    "parts.intro": ("输入序列号，查看该零件及其各级供应商零部件的全部测量结果与符合性。",
                    "Enter a serial number to follow a part through its suppliers' components, "
                    "with every measurement and its conformity."),
    "parts.tree": ("装配结构", "As-built tree"),
    "parts.measurements": ("测量数", "Measurements"),
    "parts.out_of_spec": ("超差", "Out of spec"),
    "parts.conform": ("合格", "conforms"),
    "parts.nonconform": ("不合格", "out of spec"),
    "parts.hidden": ("另有 {n} 个零部件属于未向您共享数据的企业，未显示。",
                     "{n} more components belong to enterprises that do not share their data with you."),
    "parts.characteristic": ("质量特性", "Characteristic"),
    "parts.limits": ("公差范围", "Tolerance"),
    "parts.stage": ("阶段", "Stage"),
    "parts.conformity": ("符合性", "Conformity"),
    "parts.no_measurements": ("该零件没有测量值", "No measurements on this part"),
    "parts.ambiguous": ("序列号不唯一，请同时给出零件号", "The serial is ambiguous: give the part number too"),
    # instruments
    "inst.title": ("计量器具与标准", "Instruments and standards"),
    "inst.count": ("共 {n} 台", "{n} in total"),
    "inst.realises": ("复现 SI 单位", "realises the SI unit"),
    "inst.quantity": ("量", "Quantity"),
    "inst.range": ("测量范围", "Range"),
    "inst.holder": ("所属", "Held by"),
    "inst.last_calibration": ("最近校准", "Last calibration"),
    "inst.valid_until": ("有效期至", "Valid until"),
    "inst.history": ("校准历史", "Calibration history"),
    "inst.chain": ("量值溯源链", "Traceability chain"),
    "inst.chain_intro": ("从本器具逐级向上溯源至国家计量基准；红色虚线表示过期、超差或缺失的校准。",
                         "From this instrument up to the national standard; red dashed links are expired, "
                         "out-of-tolerance or missing calibrations."),
    "inst.certificate": ("证书编号", "Certificate"),
    "inst.calibrated_at": ("校准日期", "Calibrated"),
    "inst.result": ("结论", "Result"),
    "inst.error_as_found": ("校准前误差", "Error as found"),
    "inst.uncertainty": ("扩展不确定度 U (k)", "Expanded uncertainty U (k)"),
    "inst.lab": ("校准实验室", "Calibrating lab"),
    "inst.no_calibrations": ("没有校准记录", "No calibration recorded"),
    "inst.unbroken": ("溯源链完整", "The chain is unbroken"),
    "inst.broken": ("溯源链中断", "The chain is broken"),
    "inst.mpe": ("最大允许误差", "MPE"),
    "inst.interval": ("校准周期 (天)", "Calibration interval (days)"),
    "inst.never": ("从未校准", "never calibrated"),
    "kind.working": ("工作计量器具", "working instrument"),
    "kind.reference_standard": ("参考标准", "reference standard"),
    "kind.provincial_standard": ("省级计量标准", "provincial standard"),
    "kind.national_standard": ("国家计量基准", "national standard"),
    "link.ok": ("有效", "valid"),
    "link.expired": ("已过期", "expired"),
    "link.out_of_tolerance": ("超差", "out of tolerance"),
    "link.missing": ("缺失", "missing"),
    "link.cycle": ("循环", "cycle"),
    "result.pass": ("合格", "pass"),
    "result.adjusted": ("调整后合格", "adjusted"),
    "result.out_of_tolerance": ("超差", "out of tolerance"),
    "result.fail": ("不合格", "fail"),
    # labs
    "labs.title": ("实验室名录", "Lab directory"),
    "labs.intro": ("经监管部门资质认定的校准与检测实验室及其认可能力范围。",
                   "Calibration and testing labs qualified by the regulator, with their accredited scopes."),
    "labs.level": ("级别", "Level"),
    "labs.qualification": ("资质状态", "Qualification"),
    "labs.accreditation": ("认可证书号", "Accreditation no."),
    "labs.scope": ("认可范围", "Accredited scope"),
    "labs.cmc": ("校准测量能力 CMC", "CMC"),
    "labs.method": ("方法", "Method"),
    "labs.no_scope": ("未登记认可范围", "No scope registered"),
    "level.national": ("国家级", "national"),
    "level.provincial": ("省级", "provincial"),
    "level.lab": ("校准/检测实验室", "service lab"),
    "level.in_house": ("企业内部", "in-house"),
    "qual.applied": ("申请中", "applied"),
    "qual.qualified": ("已认定", "qualified"),
    "qual.suspended": ("暂停", "suspended"),
    "qual.revoked": ("撤销", "revoked"),
    # region
    "region.title": ("区域质量监管看板", "Regional quality supervision"),
    "region.by_chain": ("按产业链", "By industry chain"),
    "region.capability_distribution": ("过程能力分布 (Cpk 分级)", "Capability distribution (Cpk classes)"),
    "region.rates": ("失控率与校准合规率", "Out-of-control rate and calibration compliance"),
    "region.enterprises": ("企业", "Enterprises"),
    "region.characteristics": ("质量特性", "Characteristics"),
    "region.values": ("测量值数", "Values"),
    "region.instruments": ("工作器具", "Working instruments"),
    "region.ooc_rate": ("失控率", "Out-of-control rate"),
    "region.ppm": ("超差 ppm", "Out of spec (ppm)"),
    "region.calibration_compliance": ("校准合规率", "Calibration compliance"),
    "region.drill": ("企业指标", "Enterprise indicators"),
    "region.cpk_mini": ("Cpk 分布", "Cpk distribution"),
    "region.period": ("期间", "Period"),
    "region.indicators": ("指标", "Indicators"),
    "region.rows": ("质量特性汇总", "Characteristics summary"),
    "region.back": ("返回区域看板", "Back to the region"),
}


def register(texts: dict[str, tuple[str, str]]) -> None:
    """Add a page module's words to :data:`TEXT` (at import); a key defined twice is a bug."""
    twice = sorted(set(texts) & set(TEXT))
    if twice:
        raise KeyError(f"i18n keys defined twice: {twice}")
    bad = [k for k, v in texts.items() if len(v) != len(LANGS)]
    if bad:
        raise ValueError(f"i18n keys without exactly {LANGS} texts: {bad}")
    TEXT.update(texts)


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **fmt)`` in ``lang``."""
    idx = LANGS.index(lang)

    def t(key: str, **fmt) -> str:
        text = TEXT[key][idx]
        return text.format(**fmt) if fmt else text

    return t


def resolve(query_lang: str | None, cookie_lang: str | None) -> str:
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGS:
            return candidate
    return DEFAULT_LANG


def bundle(lang: str, prefixes: tuple[str, ...]) -> dict[str, str]:
    """The texts whose key starts with one of ``prefixes``, for a page's scripts."""
    idx = LANGS.index(lang)
    return {k: v[idx] for k, v in TEXT.items() if k.startswith(prefixes)}
