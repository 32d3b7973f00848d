"""The people's console at /console: a page of static files that is a client of /graphql.

The page reads nothing but the GraphQL API, with the caller's token, under the caller's policies.
Two small JSON endpoints sit beside it and read no department data:

- `GET /console/whoami` (behind hub.middleware.Authenticate, as /graphql is): the principal the caller's credentials stand for (subject, department and
  its title, roles, region and its name), so every page can say who is signed in (an API key
  cannot be read by the browser itself);
- `GET /console/demo-users`: in the demo only (`HUB_CONSOLE_DEMO_USERS`, which `hub demo` sets), the
  demo users with a fresh token each, to switch between; 404 otherwise.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from adapters.registry import load_departments
from hub.auth import create_token
from hub.console import PREFIX, vendored
from hub.core.codes import REGIONS
from hub.core.departments import Departments
from hub.core.errors import Unauthenticated
from hub.core.principal import Principal
from hub.core.settings import Settings
from hub.middleware import PRINCIPAL_KEY

HERE = Path(__file__).parent
DEMO_TOKEN_TTL = "12h"
NO_STORE = {"cache-control": "no-store"}


@cache
def console_page() -> str:
    """The console's HTML: Chart.js from the vendored files, then the console's own scripts in order."""
    own = ["app.js", "ids.js", "data.js", "overview.js", "alerts.js", "directory.js", "inbox.js", "reports.js"]
    scripts = [*vendored(".js", "console"), *(f"{PREFIX}/console/{name}" for name in own)]
    template = (HERE / "console.html").read_text(encoding="utf-8")
    return template.format(
        styles=f'<link rel="stylesheet" href="{PREFIX}/console/console.css">',
        scripts="\n".join(f'<script src="{url}"></script>' for url in scripts),
    )


def describe(principal: Principal, departments: Departments) -> dict[str, object]:
    """What the console shows of a principal: bilingual department title and region name beside the codes."""
    department = next((d for d in departments if d.id == principal.department), None)
    return {
        "subject": principal.subject,
        "department": principal.department,
        "departmentZh": department.name_zh if department else None,
        "departmentEn": department.name_en if department else None,
        "roles": list(principal.roles),
        "region": principal.region,
        "regionName": REGIONS.get(principal.region, principal.region),
        "via": principal.via,
    }


def demo_users(settings: Settings, departments: Departments) -> list[dict[str, object]]:
    """The demo's sign-in list, each with a fresh token (only ever called in demo mode)."""
    from hub.demo.generate import CONSOLE_USERS

    users = []
    for role, department, region in CONSOLE_USERS:
        subject = f"demo-{department or role}-{region}"
        token = create_token(settings, department, [role], region, DEMO_TOKEN_TTL, subject=subject)
        principal = Principal(subject, department, (role,), region)
        users.append({**describe(principal, departments), "token": token})
    return users


def console_routes(settings: Settings) -> list[Route]:
    """/console (the page), /console/whoami and, in demo mode, /console/demo-users."""
    departments = load_departments(settings)

    async def page(request: Request) -> Response:
        return HTMLResponse(console_page())

    async def whoami(request: Request) -> Response:
        principal = request.scope.get(PRINCIPAL_KEY)  # hub.middleware.Authenticate refused anyone without credentials
        if principal is None:  # a browser's page request passes the middleware: it has nothing to show
            exc = Unauthenticated("需要令牌或 API 密钥 / a bearer token or an API key is required")
            return JSONResponse({"errors": [{"message": exc.message, "extensions": exc.extensions}]}, 401, NO_STORE)
        return JSONResponse(describe(principal, departments), headers=NO_STORE)

    async def demo(request: Request) -> Response:
        if not settings.console_demo_users:
            return JSONResponse({"errors": [{"message": "仅演示模式提供 / only in the demo"}]}, 404)
        return JSONResponse(demo_users(settings, departments), headers=NO_STORE)

    return [Route("/console", page), Route("/console/whoami", whoami), Route("/console/demo-users", demo)]
