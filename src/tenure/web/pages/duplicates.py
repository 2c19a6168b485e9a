"""The duplicates pages: the review queue, a pair side by side, scans, merges and undo.

Every form posts with the CSRF token; after a merge or a dismissal the reviewer lands on
the next pair of the queue, so working through it is one click per pair. A scan of the
whole base is previewed first (a dry run: counts and a sample of merges with their
evidence) and runs only when confirmed, as one merge run that undoes as a whole. Roles
that cannot write see no scan, merge or undo buttons, and their posts are refused.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from tenure.customers.queries import list_attribute_definitions
from tenure.db.session import end_read
from tenure.dedup import actions, review, runs
from tenure.dedup.preview import preview_dict
from tenure.errors import InvalidInput
from tenure.validation import RowId
from tenure.web.deps import PageWriter, SessionDep
from tenure.web.pages.context import PageCtx
from tenure.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
RECENT_MERGES = 20
RECENT_RUNS = 10


def _next_pair(session: SessionDep, message: str) -> RedirectResponse:
    page = review.list_candidates(session, limit=1)
    target = f"/duplicates/{page.items[0]['id']}" if page.items else "/duplicates"
    return RedirectResponse(f"{target}?done={message}", status_code=303)


@router.get("/duplicates")
def queue_page(
    request: Request,
    session: SessionDep,
    ctx: PageCtx,
    cursor: str | None = None,
    done: str | None = None,
) -> Response:
    page = review.list_candidates(session, cursor=cursor, limit=PAGE_SIZE)
    return render(
        request,
        "duplicates/list.html",
        ctx=ctx,
        pairs=page.items,
        next_cursor=page.next_cursor,
        pending=review.pending_count(session),
        merges=review.list_merges(session, limit=RECENT_MERGES).items,
        runs=runs.list_runs(session, limit=RECENT_RUNS)[0],
        labels=review.FIELD_LABELS,
        done=done,
    )


@router.get("/duplicates/{candidate_id}")
def pair_page(
    request: Request,
    candidate_id: RowId,
    session: SessionDep,
    ctx: PageCtx,
    done: str | None = None,
) -> Response:
    detail = review.candidate_detail(session, candidate_id)
    left, right = detail["left"], detail["right"]
    keys = sorted(
        set((left or {}).get("attributes", {})) | set((right or {}).get("attributes", {}))
    )
    return render(
        request,
        "duplicates/pair.html",
        ctx=ctx,
        detail=detail,
        pair=detail["candidate"],
        left=left,
        right=right,
        attribute_keys=keys,
        attribute_labels={
            d.key: d.label for d in list_attribute_definitions(session) if d.entity == "person"
        },
        done=done,
    )


@router.post("/duplicates/{candidate_id}/merge")
def merge_pair_form(
    request: Request,
    candidate_id: RowId,
    session: SessionDep,
    actor: PageWriter,
    keep_id: Annotated[RowId | None, Form()] = None,
) -> Response:
    merge = actions.merge_candidate(
        session=session, candidate_id=candidate_id, actor=actor, keep_id=keep_id
    )
    return _next_pair(session, f"merged-{merge.id}")


@router.post("/duplicates/{candidate_id}/dismiss")
def dismiss_pair_form(
    request: Request,
    candidate_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    actions.dismiss_candidate(session=session, candidate_id=candidate_id, actor=actor)
    return _next_pair(session, f"dismissed-{candidate_id}")


@router.post("/merges/{merge_id}/undo")
def undo_form(
    request: Request,
    merge_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    actions.undo(session=session, merge_id=merge_id, actor=actor)
    return RedirectResponse(f"/duplicates?done=undone-{merge_id}", status_code=303)


@router.post("/duplicates/scan/preview")
def scan_preview_form(request: Request, session: SessionDep, ctx: PageCtx) -> Response:
    """A dry run: what the scan would merge and queue, to confirm before anything changes."""
    end_read(session)  # as the API does: no read transaction held open during the scan
    report = actions.scan(
        session_factory=request.app.state.session_factory,
        actor=ctx.actor,
        dry_run=True,
    )
    return render(request, "duplicates/scan_preview.html", ctx=ctx, preview=preview_dict(report))


@router.post("/duplicates/scan")
def scan_form(
    request: Request,
    session: SessionDep,
    actor: PageWriter,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    if confirm != "yes":
        raise InvalidInput("confirm", "preview the scan and confirm it (confirm=yes)")
    end_read(session)  # as the API does: no read transaction held open during the scan
    report = actions.scan(session_factory=request.app.state.session_factory, actor=actor)
    done = f"run-{report.run_id}-{report.merged}-{report.queued}"
    return RedirectResponse(f"/duplicates?done={done}#runs", status_code=303)


@router.post("/merge-runs/{run_id}/undo")
def undo_run_form(
    request: Request,
    run_id: RowId,
    session: SessionDep,
    actor: PageWriter,
) -> Response:
    end_read(session)  # as the scan does: no read transaction held open meanwhile
    actions.undo_run(
        session_factory=request.app.state.session_factory,
        run_id=run_id,
        actor=actor,
    )
    return RedirectResponse(f"/duplicates?done=rundone-{run_id}#runs", status_code=303)
