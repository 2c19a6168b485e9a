"""The links inside emails, reached by people who do not log in: the one-click
unsubscribe (RFC 8058) and its page, the open pixel and the click redirect.

Outside the CSRF check the page routers carry (``web.app``): a mailbox provider's
one-click POST carries no session, and the signed token in the URL is what authorises it.
"""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import RedirectResponse, Response

from tenure.messaging import actions
from tenure.messaging.links import UNSUBSCRIBE, signing_key, unsign
from tenure.web.deps import SessionDep, SettingsDep
from tenure.web.templating import templates

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(max_length=2000)]

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
NO_STORE = {"Cache-Control": "no-store, private", "Referrer-Policy": "no-referrer"}


@router.get("/unsubscribe/{token}")
def unsubscribe_page(
    request: Request, token: Token, session: SessionDep, settings: SettingsDep
) -> Response:
    """A page with a confirm button: a GET never unsubscribes (link scanners follow them)."""
    unsign(signing_key(session, settings), UNSUBSCRIBE, token)  # a forged link: 422
    return templates.TemplateResponse(
        request, "messaging/unsubscribe.html", {"token": token, "done": False}, headers=NO_STORE
    )


@router.post("/unsubscribe/{token}")
def unsubscribe(
    request: Request, token: Token, session: SessionDep, settings: SettingsDep
) -> Response:
    """The one-click unsubscribe (body ``List-Unsubscribe=One-Click``) and the page's
    button: the marketing consent is withdrawn at once."""
    actions.unsubscribe(session, token=token, key=signing_key(session, settings))
    return templates.TemplateResponse(
        request, "messaging/unsubscribe.html", {"token": token, "done": True}, headers=NO_STORE
    )


@router.get("/e/o/{token}.gif")
def open_pixel(token: Token, session: SessionDep, settings: SettingsDep) -> Response:
    actions.record_open(session, token=token, key=signing_key(session, settings))
    return Response(PIXEL, media_type="image/gif", headers=NO_STORE)


@router.get("/e/c/{token}")
def click(token: Token, session: SessionDep, settings: SettingsDep) -> Response:
    destination = actions.record_click(session, token=token, key=signing_key(session, settings))
    return RedirectResponse(destination, status_code=302, headers=NO_STORE)
