"""The rule table: id, severity, the entities each rule reads, bilingual title and message.

The table for readers is docs/supervision.md §The rules at a glance.

The functions that decide each rule are in person_rules.py (one person at a time) and
unit_rules.py (per-institution aggregates); this table is the data every other part reads.
"""

from __future__ import annotations

from hub.supervision.model import FreezeKind, Rule, Severity

S, W, N = Severity.SEVERE, Severity.WARNING, Severity.NOTICE
# The entities (hub.core.records) the rules read; a rule runs when the departments keeping them answer.
SLOT, PAY, PAYEE, STAFF, POSTS = "registry_slot", "pay_line", "payee", "personnel", "post_assignment"


def _needs(*entities: str) -> frozenset[str]:
    return frozenset(entities)


RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule("R01", S, _needs(PAY, PAYEE, SLOT), "person", "吃空饷：发薪但无在编实名制记录", "ghost pay: paid with no active registry slot",
             "{month} 财政发放 {amount} 元（{payer}），实名制无在编记录（最近出编：{lastLeft}）",
             "paid {amount} in {month} by finance ({payer}), no active registry slot (last left: {lastLeft})",
             FreezeKind.PAYROLL),
        Rule("R02", W, _needs(SLOT, PAY), "person", "在编未发薪", "active registry slot, not paid",
             "{unit} 在编（{quotaType}，{entered} 入编），{month} 无任何发薪记录",
             "holds an active {quotaType} slot at {unit} (entered {entered}), paid by nobody in {month}"),
        Rule("R03", W, _needs(SLOT, PAY, PAYEE), "person", "编制单位与发薪单位不一致", "registry unit differs from payroll unit",
             "实名制在 {registryUnit}，{month} 由 {payUnit} 发薪",
             "registry slot at {registryUnit}, paid in {month} by {payUnit}"),
        Rule("R04", S, _needs(SLOT, "quota"), "institution", "超编", "headcount over approved quota",
             "{quotaType} 核定 {approved} 名，{month} 实有 {headcount} 名，超编 {over} 名",
             "{quotaType}: {approved} approved, {headcount} in post in {month}, {over} over quota",
             FreezeKind.QUOTA_USE),
        Rule("R05", W, _needs(SLOT, STAFF), "person", "编制类型与人员身份不符", "quota type contradicts personnel category",
             "{unit} 占 {quotaType} 编制，人社登记身份为 {category}",
             "holds a {quotaType} slot at {unit}, HR category is {category}"),
        Rule("R06", W, _needs(SLOT, PAY, PAYEE), "person", "工资套改口径与编制类型不符", "pay scale contradicts quota type",
             "占 {quotaType} 编制，{month} 按{scaleZh}发薪（{items}）",
             "holds a {quotaType} slot, paid on the {scaleEn} scale in {month} ({items})"),
        Rule("R07", S, _needs("leadership_post", "appointment"), "institution", "超职数配备领导", "leaders in post over approved posts",
             "{scopeZh}{levelZh} 核定 {approved} 名，在任 {filled} 名",
             "{scopeEn} {levelEn} posts: {approved} approved, {filled} in post",
             FreezeKind.APPOINTMENT),
        Rule("R08", S, _needs(SLOT, PAY, STAFF, POSTS), "person", "超过法定退休年龄仍在编或领薪", "past statutory retirement, still in post or paid",
             "出生 {birth}，法定退休日期 {retirement}，{month} 仍{whereZh}，无延迟退休备案",
             "born {birth}, statutory retirement {retirement}, still {whereEn} in {month}, no recorded deferral",
             FreezeKind.PAYROLL, personal={"birth": "birth", "retirement": "birth"}),
        Rule("R09", S, _needs(SLOT, PAY), "person", "一人多编或重复发薪", "two registry slots, or paid twice in a month",
             "在编实名制记录 {slotCount} 条（{slots}），{month} 发薪 {payCount} 笔（{payees}）",
             "{slotCount} active registry slots ({slots}), {payCount} pay rows in {month} ({payees})",
             FreezeKind.PAYROLL),
        Rule("R10", N, _needs(), "both", "证件号码或统一社会信用代码无效", "invalid ID number or USCC",
             "{kindZh} {code} 无效：{problemZh}（{sources}）",
             "invalid {kindEn} {code}: {problemEn} ({sources})", personal={"code": "id_number"}),
        Rule("R11", N, _needs(), "person", "出生日期或性别与身份证号/各部门不一致", "birth date or sex disagrees",
             "出生日期：{births}；性别：{sexes}", "birth date: {births}; sex: {sexes}", personal={"births": "birth"}),
        Rule("R12", N, _needs(), "person", "同一身份证号姓名不一致", "same ID number, different names",
             "各部门姓名：{names}", "names by department: {names}", personal={"names": "name"}),
        Rule("R13", W, _needs(SLOT, "vacancy_plan"), "person", "无空编补员计划或计划名额不足入编", "entered a slot without a plan with places left",
             "{entriesZh}", "{entriesEn}", FreezeKind.QUOTA_USE),
        Rule("R14", S, _needs(SLOT, STAFF, PAYEE, PAY), "person", "已出编/死亡/辞职仍发薪", "pay continues after leaving",
             "{eventZh}（{date}），其后仍发薪 {months}，合计 {amount} 元",
             "{eventEn} on {date}, still paid in {months}, {amount} in all",
             FreezeKind.PAYROLL),
        Rule("R15", W, _needs("insurance", PAY), "person", "养老保险扣缴与参保状态不符", "pension deduction contradicts insurance status",
             "{month} 养老保险扣款 {pension} 元，参保状态 {status}", "pension deducted {pension} in {month}, insurance status {status}"),
        Rule("R16", W, _needs(SLOT, PAYEE, PAY), "person", "编内外身份与实名制不符", "on/off-quota flag contradicts the registry",
             "财政登记为{flagZh}（人员编码 {payee}），实名制{registryZh}",
             "finance lists payee {payee} as {flagEn}, registry shows {registryEn}"),
    )
}
