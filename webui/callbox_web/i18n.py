"""The web UI's languages: English (the text in the templates) and Chinese, chosen per user.

Templates write English and pass it through ``t``: ``{{t("Log out")}}``. ``t`` returns the
user's language when the catalogue has the text, and the English text otherwise, so a page
is never blank. Before login the browser's Accept-Language decides. Add a text by adding
its line to ZH.
"""
LANGS = ("en", "zh")
LANG_NAMES = {"en": "English", "zh": "中文"}

ZH = {
    # layout and navigation
    "Dashboard": "总览", "Wallboard": "大屏", "Agent": "坐席", "Call records": "通话记录",
    "Recordings": "录音", "Reports": "报表", "Supervise": "班长监控", "Queues": "队列", "Agents": "坐席管理",
    "Routes": "路由", "Users": "用户", "Trunks": "中继", "IVR": "语音导航", "Diagnostics": "诊断", "System": "系统",
    "Log out": "退出", "Log in": "登录", "Username": "用户名", "Password": "密码", "Language": "语言",
    # wallboard
    "Updated every second.": "每秒刷新。", "waiting": "排队", "Queue": "队列", "Waiting": "排队数",
    "Longest wait": "最长等待", "SL today": "今日服务水平", "Answered": "已接听", "Abandoned": "放弃",
    "Ready": "就绪", "ready": "就绪", "not-ready": "未就绪", "on-call": "通话中", "ringing": "振铃",
    "acw": "话后处理", "logged-out": "未登录",
    # agent page
    "State": "状态", "at seat": "座席", "calls today": "今日通话", "Sign in": "签入", "Not ready": "未就绪",
    "End after-call work": "结束话后处理", "Sign out": "签出", "Reason": "原因",
    "Caller": "来电", "Number": "号码", "VIP": "贵宾", "IVR choices": "按键选择", "Entered": "输入信息",
    "Previous calls": "历史通话", "Hold": "保持", "Take back": "取回", "To": "转至", "Transfer": "转接",
    "Consult first": "先咨询", "Complete transfer": "完成转接", "Back to caller": "回到来电",
    "Disposition": "处理结果", "Note": "备注", "Save": "保存", "Wrap-up of call": "通话小结",
    "Callbacks waiting in the queues": "队列中等待的回拨", "yes": "是", "no": "否",
    # dashboard
    "Spans": "中继线路", "Span": "中继", "Type": "类型", "Status": "状态", "Alarms": "告警", "D-channel": "D信道",
    "No spans configured.": "未配置中继。", "Live calls": "实时通话", "Span/chan": "中继/信道", "ANI": "主叫",
    "DNIS": "被叫", "Seat": "座席号", "Duration": "时长", "No calls in progress.": "当前没有通话。",
    "Login": "工号", "Name": "姓名", "For": "持续", "Calls": "通话数", "No agents.": "没有坐席。",
    "Agents ready": "就绪坐席", "No queues.": "没有队列。",
    # supervise
    "Calls in progress": "进行中的通话", "Call": "通话", "Supervised": "监控中", "Action": "操作",
    "My seat": "我的座席号", "listen": "监听", "whisper": "耳语", "barge": "强插", "off": "结束",
}
CATALOGUES = {"zh": ZH}


def pick(accept_language):
    """The language for a visitor not logged in, from the Accept-Language header."""
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def translator(lang):
    """t(text) for a language."""
    cat = CATALOGUES.get(lang)
    if not cat:
        return lambda text: text
    return lambda text: cat.get(text, text)
