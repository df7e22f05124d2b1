"""A body every ticket action accepts, shared by the tests that try every action."""

from __future__ import annotations

from typing import Any

VALID_BODIES: dict[str, dict[str, Any]] = {
    "answer": {"text": "已在电话中答复市民"},
    "confirm-dispatch-text": {
        "title": "小区物业不作为",
        "dispatch_text": "市民反映小区物业不作为，请核实处理。",
    },
    "dispatch": {"lead_unit": "ZJJ"},
    "sign": {},
    "reject": {"reason": "不属于本单位职责"},
    "redispatch": {"lead_unit": "ZJJ"},
    "request-extension": {"reason": "需要协调物业公司", "days": 3},
    "approve-extension": {},
    "refuse-extension": {"reason": "理由不充分"},
    "pause": {"reason": "等待市民提供材料"},
    "resume": {},
    "mediate": {"outcome": "agreed", "text": "双方达成一致"},
    "notify-parties": {"text": "已书面告知双方调解不成，可依法向法院起诉。"},
    "reply": {"result": "solved", "text": "电梯已修复，垃圾已清运。"},
    "callback": {"contacted": True, "satisfaction": "满意"},
    "close": {},
    "reopen": {"reason": "市民反映问题仍未解决"},
    "merge": {"into": "20260101-00001"},
    "urge": {"reason": "市民多次来电"},
    "supervise": {"reason": "超期未办结"},
    "supplement": {"text": "今天电梯又坏了，请尽快维修。"},
    "assist-opinion": {"text": "协办意见：已核实相关情况", "done": True},
    "subdispatch": {"unit": "SYJT"},  # 市水业集团, below 住建局 (ZJJ)
    "sub-sign": {},
    "sub-reply": {"result": "solved", "text": "已上门核实并处理完毕。"},
    "sub-approve": {},
    "sub-return": {"reason": "请补充处理照片"},
    "approve-pause": {},
    "deny-pause": {"reason": "等待材料不是挂起的理由，请先电话联系市民"},
    "reject-dispute": {"reason": "该事项属于本单位职责，请签收办理"},
    "approve-reply": {},
    "return-reply": {"reason": "答复未说明处理结果，请补充后重新答复"},
}
