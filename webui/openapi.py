"""The OpenAPI 3.1 document of /api/v1 (kept beside the routes it describes)."""

from __future__ import annotations

from typing import Any

from webui.admin import openapi_paths as admin_paths
from webui.admin_settings import openapi_paths as admin_settings_paths
from webui.admin_sources import openapi_paths as admin_source_paths
from webui.briefings import openapi_paths as briefing_paths
from webui.channels import openapi_paths as channel_paths
from webui.dashboard import openapi_paths as dashboard_paths
from webui.inbox import openapi_paths as inbox_paths
from webui.queries import CaseFilter
from webui.replies import openapi_paths as reply_paths
from webui.reports import report_paths
from webui.schemes import openapi_paths as scheme_paths
from webui.search import openapi_paths as search_paths
from webui.services import ActionInput, CorrectionInput

ACTIONS = ["dispatch", "sign", "return", "reassign", "request_extension", "approve_extension",
           "deny_extension", "respond", "close", "reopen", "supervise", "dismiss", "withdraw",
           "merge", "split"]


def _ok(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {}}},
            "401": {"description": "未登录或令牌无效"}}


def _errors() -> dict[str, Any]:
    return {"400": {"description": "输入有误"}, "403": {"description": "无权执行"},
            "404": {"description": "工单不存在或无权查看"},
            "409": {"description": "当前状态不允许，或工单已被他人修改"}}


def _json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def openapi_document() -> dict[str, Any]:
    # pydantic's $defs (CaseState) live under components/schemas, where OpenAPI resolves them
    schema = CaseFilter.model_json_schema(ref_template="#/components/schemas/{model}")
    filters = schema["properties"]
    params = [{"name": name, "in": "query", "required": False, "schema": schema,
               **({"style": "form", "explode": True} if schema.get("type") == "array" else {})}
              for name, schema in filters.items()]
    case_id = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return _hoist_defs(CaseFilter.model_json_schema().get("$defs", {}), {
        "openapi": "3.1.0",
        "info": {"title": "舆情监测与回应协同平台 API", "version": "1",
                 "description": "承办单位用户只能看到分派给本单位的工单。网页会话需在请求头 "
                                "X-CSRF-Token 中携带 /api/v1/me 返回的 csrf_token；"
                                "集成系统使用 Bearer 令牌（yuqing user token 生成）。"},
        "components": {"securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
                       "schemas": schema.get("$defs", {})},
        "security": [{"token": []}],
        "paths": {
            "/api/v1/me": {"get": {"summary": "当前用户", "responses": _ok("用户信息")}},
            "/api/v1/meta": {"get": {"summary": "领域、地区、状态、单位字典",
                                     "responses": _ok("字典")}},
            "/api/v1/cases": {"get": {"summary": "工单列表（按级别、最近时限排序）",
                                      "parameters": params,
                                      "responses": _ok("工单列表；next_cursor 为下一页的 cursor 参数（最后一页为 null）")}},
            "/api/v1/cases/{case_id}": {"get": {
                "summary": "工单详情：信息、时间线、趋势、研判理由、分派说明、处置记录",
                "parameters": [case_id], "responses": {**_ok("工单详情"), **_errors()}}},
            "/api/v1/cases/{case_id}/actions/{action}": {"post": {
                "summary": "执行处置操作",
                "parameters": [case_id, {"name": "action", "in": "path", "required": True,
                                         "schema": {"type": "string", "enum": ACTIONS}}],
                "requestBody": _json_body(ActionInput.model_json_schema()),
                "responses": {**_ok("处置记录"), **_errors()}}},
            "/api/v1/cases/bulk": {"post": {
                "summary": "批量派发或不予处置",
                "requestBody": _json_body({"type": "object", "required": ["action", "ids"],
                                           "properties": {
                                               "action": {"enum": ["dispatch", "dismiss"]},
                                               "ids": {"type": "array",
                                                       "items": {"type": "integer"}},
                                               "note": {"type": "string"},
                                               "lead": {"type": "string"},
                                               "co": {"type": "array",
                                                      "items": {"type": "string"}}}}),
                "responses": {**_ok("成功与失败的工单"), **_errors()}}},
            "/api/v1/cases/{case_id}/corrections": {"post": {
                "summary": "更正领域、级别、地区或承办单位（记为训练反馈）",
                "parameters": [case_id],
                "requestBody": _json_body(CorrectionInput.model_json_schema()),
                "responses": {**_ok("记录的反馈"), **_errors()}}},
            "/api/v1/my-cases": {"get": {"summary": "本单位工单，按下一步分组（已超时、即将到期、"
                                                     "待签收、待回应、已回应待办结、已办结）",
                                         "responses": _ok("分组工单")}},
            **briefing_paths(),
            **report_paths(),
            **reply_paths(),
            **dashboard_paths(),
            **channel_paths(),
            **scheme_paths(),
            **search_paths(),
            **admin_paths(),
            **inbox_paths(),
            **admin_source_paths(),
            **admin_settings_paths(),
        },
    })


def _hoist_defs(defs: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    """Pydantic schemas carry their own "$defs" with "#/$defs/X" references, which resolve
    against the document root, not the schema: move them (and ``defs``, those of the query
    parameters' model) to components/schemas."""
    schemas: dict[str, Any] = doc["components"].setdefault("schemas", {})
    schemas.update(defs)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            for name, schema in node.pop("$defs", {}).items():
                schemas[name] = walk(schema)
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    doc["paths"] = walk(doc["paths"])
    return doc
