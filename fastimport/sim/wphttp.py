"""WordPress REST response conventions: JSON errors, parameter validation, pagination headers."""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

JSON_TYPE = "application/json; charset=UTF-8"
# rest_parse_date(): what WordPress accepts for a "date-time" argument.
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|z|[+-]\d{2}(:?\d{2})?)?$")


class WPError(Exception):
    """Raised by handlers; the middleware answers it with WordPress's JSON error body."""

    def __init__(self, status: int, code: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data

    def response(self) -> web.Response:
        body = {"code": self.code, "message": self.message, "data": {"status": self.status, **self.data}}
        return json_response(orjson.dumps(body), self.status)


def invalid_param(name: str, reason: str) -> WPError:
    return WPError(400, "rest_invalid_param", f"Invalid parameter(s): {name}", params={name: reason})


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(body=body, status=status, headers=headers)
    resp.headers["Content-Type"] = JSON_TYPE
    return resp


def int_param(request: web.Request, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_param(name, f"{name} is not of type integer.") from None
    if value < low or (high is not None and value > high):
        if high is None:
            raise invalid_param(name, f"{name} must be greater than or equal to {low}")
        raise invalid_param(name, f"{name} must be between {low} (inclusive) and {high} (inclusive)")
    return value


def bool_param(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "false").lower()
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0", ""):
        return False
    raise invalid_param(name, f"{name} is not of type boolean.")


def enum_param(request: web.Request, name: str, default: str, allowed: tuple[str, ...]) -> str:
    value = request.query.get(name, default)
    if value not in allowed:
        raise invalid_param(name, f"{name} is not one of {', '.join(allowed[:-1])} and {allowed[-1]}.")
    return value


def date_param(request: web.Request, name: str) -> str | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not _DATE_TIME.match(raw.strip()):
        raise invalid_param(name, "Invalid date.")
    return raw


def list_param(request: web.Request, name: str) -> list[str]:
    """WordPress array args: ``name=a,b`` or ``name[]=a&name[]=b``."""
    values = request.query.getall(name, []) + request.query.getall(name + "[]", [])
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def strict_int(value: Any) -> int | None:
    """WordPress's integer check: ints and integral numeric strings pass, floats and bools do not."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    return None


def paginate(request: web.Request, total: int, page: int, per_page: int) -> dict[str, str]:
    """X-WP-Total, X-WP-TotalPages and Link (prev/next), as WC_REST_CRUD_Controller::get_items builds them."""
    max_pages = -(-total // per_page)
    headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(max_pages)}
    links = []
    if page > 1:
        links.append(f'<{_page_url(request, min(page - 1, max_pages) or 1)}>; rel="prev"')
    if max_pages > page:
        links.append(f'<{_page_url(request, page + 1)}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return headers


def _page_url(request: web.Request, page: int) -> str:
    pairs = [(k, v) for k, v in request.query.items() if k != "page"]
    return str(request.url.with_query([*pairs, ("page", str(page))]))


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise WPError(
            400,
            "rest_invalid_json",
            "Invalid JSON body passed.",
            json_error_code=4,
            json_error_message="Syntax error",
        ) from None
