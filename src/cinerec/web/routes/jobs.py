"""Job state: ``GET /api/jobs`` (newest first, paged), ``GET /api/jobs/{job_id}``, and
``POST /api/jobs/{job_id}/cancel``.

Jobs belong to the platform, not to a session, so no profile is needed; what a job carries
(arguments, results, error text) stays out of the answer (:mod:`cinerec.services.job_state`).
Cancelling changes what the platform does, so besides the CSRF token every state-changing
request needs, it takes the operator's jobs token (``CINEREC_JOBS_TOKEN``) as a bearer token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cinerec.services import job_state
from cinerec.web.deps import PlatformDep
from cinerec.web.schemas import COMMON_ERRORS, MAX_ID, JobIdPath, JobPublic
from cinerec.web.security import require_csrf, require_jobs_token

router = APIRouter(
    prefix="/api/jobs", tags=["jobs"], dependencies=[Depends(require_csrf)], responses=COMMON_ERRORS
)


@router.get("", response_model=list[JobPublic])
def list_jobs(
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=job_state.MAX_PAGE, description="Jobs per page.")] = 20,
    before: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="Only jobs with a smaller id: the next page after the last id of this one.",
        ),
    ] = None,
) -> list[JobPublic]:
    """The newest background jobs first: training, review summaries, embeddings, evaluation."""
    return [JobPublic.of(j) for j in job_state.recent_jobs(platform, limit=limit, before=before)]


@router.get("/{job_id}", response_model=JobPublic)
def get_job(platform: PlatformDep, job_id: JobIdPath) -> JobPublic:
    """One background job; 404 when there is none."""
    return JobPublic.of(job_state.job_status(platform, job_id))


@router.post(
    "/{job_id}/cancel", response_model=JobPublic, dependencies=[Depends(require_jobs_token)]
)
def cancel_job(platform: PlatformDep, job_id: JobIdPath) -> JobPublic:
    """Cancel a background job: a queued one is cancelled and never runs; a running one shows
    cancelling until its worker (in whichever process) stops it at its next step, then
    cancelled; a finished one is returned unchanged. Needs ``Authorization: Bearer`` with the
    server's jobs token (403 without it, or when the server has none)."""
    return JobPublic.of(job_state.cancel_job(platform, job_id))
