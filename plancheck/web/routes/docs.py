"""The API's OpenAPI description (JSON) and a page that lists it (no third-party script: the schema drawn by our template)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from plancheck.web.auth import Viewer
from plancheck.web.pages import render

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).parent.parent / "static"


@router.get("/api/openapi.json")
def openapi(request: Request, _user: Viewer) -> JSONResponse:
    return JSONResponse(request.app.openapi())


def type_name(schema: dict[str, Any]) -> str:
    """``string``, ``integer``, ``string (date) or null``: a JSON schema's type in words."""
    if "anyOf" in schema:
        return " or ".join(type_name(s) for s in schema["anyOf"])
    name = str(schema.get("type", "object"))
    return f"{name} ({schema['format']})" if "format" in schema else name


def operations(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """Each (method, path) of the schema with its summary, parameters and request body's fields."""
    components = schema.get("components", {}).get("schemas", {})
    out = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            body_ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            body = components.get(body_ref.rsplit("/", 1)[-1], {}) if body_ref else {}
            out.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                        "params": [(p["name"], p["in"], type_name(p.get("schema", {}))) for p in op.get("parameters", [])],
                        "body": [(name, type_name(prop), prop.get("description", "")) for name, prop in body.get("properties", {}).items()]})
    return out


@router.get("/api/docs")
def docs(request: Request, _user: Viewer) -> Response:
    return render(request, "api_docs.html.j2", ops=operations(request.app.openapi()))


@router.get("/static/app.js")
def script(_user: Viewer) -> Response:
    return Response((STATIC / "app.js").read_text(encoding="utf-8"), media_type="text/javascript")
