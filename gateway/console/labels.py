"""Chinese labels for the console: statuses, categories, ledger steps, languages, channels,
and the plain-Chinese wording of the services' refusals. Codes stay in the API."""
from services.services_desk.events import CATEGORY_NAMES

STATUS = {
    "submitted": "待受理", "accepted": "已受理", "materials_missing": "待补材料",
    "in_progress": "办理中", "forwarded": "已转县里", "answer_received": "县里已答复",
    "completed": "已办结", "rejected": "不予办理", "withdrawn": "已撤回",
}
CATEGORY = CATEGORY_NAMES
STEP = {
    "submitted": "登记", "claimed": "认领受理", "accepted": "受理", "started": "开始办理",
    "materials_missing": "一次性告知缺件", "supplemented": "材料补齐", "forwarded": "转县里办理",
    "answer_received": "县里答复", "assigned": "转交", "extended": "延期", "completed": "办结",
    "rejected": "不予办理", "withdrawn": "撤回", "reopened": "重新办理",
    "deadline_recounted": "按法定节假日重算期限",
}
LANGUAGE = {"zh": "汉语", "bo": "藏语", "ii": "彝语", "ug": "维吾尔语", "mn": "蒙古语",
            "en": "英语"}
CHANNEL = {"walk_in": "窗口", "phone": "电话", "service_day": "服务日", "system": "系统转入"}
NOTICE = {"accepted": "受理通知", "materials_missing": "一次性告知", "forwarded": "转办通知",
          "extended": "延期通知", "completed": "办结通知", "rejected": "不予办理通知",
          "deadline_changed": "期限调整通知"}
TASK_STATUS = {"open": "待县里接收", "accepted": "县里办理中", "answered": "县里已答复",
               "withdrawn": "已撤回"}
QUEUES = (("todo", "待办"), ("mine", "我的"), ("due", "即将超时·已超时"),
          ("materials", "待补材料"), ("forwarded", "已转县里"), ("done", "本月已办结"),
          ("all", "全部"))
SORTS = (("deadline", "期限最近优先"), ("newest", "最新登记优先"), ("oldest", "最早登记优先"))
ACTIONS = {
    "claim": "认领", "accept": "受理", "start": "开始办理", "materials-missing": "一次性告知",
    "supplement": "材料已补齐", "forward": "转县里办理", "assign": "转交", "extend": "延期",
    "complete": "办结", "reject": "不予办理", "withdraw": "撤回", "reopen": "重新办理",
}
# What the page says after an action went through.
DONE = {
    "claim": "已认领，开始办理。", "accept": "已受理。", "start": "已开始办理。",
    "materials-missing": "已发出一次性告知，计时暂停。", "supplement": "材料已补齐，重新计时。",
    "forward": "已转县里办理。", "assign": "已转交。", "extend": "已延期。", "complete": "已办结。",
    "reject": "已记录不予办理。", "withdraw": "已记录撤回。", "reopen": "已重新办理，重新计时。",
}
FIELD = {"reason": "理由", "outcome": "办理结果", "missing": "缺少材料", "assignee": "转交给",
         "extra_working_days": "延长工作日", "note": "备注", "requester_name": "申请人",
         "requester_phone": "电话", "description": "事项说明", "category": "类别",
         "day": "日期", "site": "地点", "status": "状态", "caller": "操作人",
         "requester_home_org_id": "户籍县", "service_day_id": "服务日"}

# marshmallow's and the services' most common field messages
MESSAGE = {"Missing data for required field.": "必填", "Shorter than minimum length 1.": "必填",
           "must not be blank": "不能为空", "Not a valid integer.": "须为整数",
           "Field may not be null.": "必填", "Not a valid date.": "日期格式不对"}


def time_label(row: dict) -> str:
    """还剩 2 个工作日 / 今天到期 / 超时 1 天 / 计时暂停（待补材料）…"""
    state = row.get("time_state")
    if state == "ended":
        return STATUS.get(row.get("status"), "")
    if state == "stopped":
        return "计时暂停（待补材料）"
    if state == "not_started":
        return "服务日起计时"
    if state == "overdue":
        if row.get("days_overdue"):
            return f"超时 {row['days_overdue']} 天"
        return "已超时"
    left = row.get("working_days_left")
    if left is None:
        return ""
    return "今天到期" if left == 0 else f"还剩 {left} 个工作日"


def refusal(code: str, message: str, fields: dict | None = None) -> str:
    """A service's refusal in plain Chinese, next to the control that asked."""
    fields = fields or {}
    if code == "not_your_request":
        holder = (fields.get("request_id") or [""])[0].removeprefix("held by ").split(";")[0]
        return f"此事项由{holder}负责：只有经办人、首问负责人（在其经办期间）或中心负责人可以操作。"
    if code == "language_mismatch":
        return "此事项需由会说申请人语言的工作人员办理，请交给中心里会这种语言的同事。"
    if code == "invalid_transition":
        if "一次性告知" in message:
            return "一次性告知只能发一次：缺件已经告知过了。"
        if "extended once" in message or "already extended" in message:
            return "期限只能延长一次，此事项已经延期过。"
        if "home county must act" in message:
            return "此类事项须先转县里办理，待县里答复后才能办结。"
        if "reopening window" in message:
            return "办结超过30天，不能重新办理。"
        return "事项当前的状态不允许这个操作（可能已被别人处理），请刷新后再看。"
    if code == "forbidden":
        if "lead" in message:
            return "延期须由中心负责人批准。"
        return "您没有权限进行此操作。"
    if code == "not_found":
        return "找不到这个事项。"
    if code == "validation_failed":
        parts = [f"{FIELD.get(name, name)}："
                 f"{'；'.join(MESSAGE.get(str(p), str(p)) for p in problems)}"
                 for name, problems in fields.items()]
        return "填写有误 — " + ("；".join(parts) if parts else message)
    if code in ("service_unavailable", "service_timeout"):
        return "服务暂时不可用，请稍后再试。"
    return f"操作未成功：{message}"
