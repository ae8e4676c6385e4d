"""Read-only job state: ``GET /api/jobs`` (newest first, paged) and ``GET /api/jobs/{job_id}``.

Jobs belong to the platform, not to a session, so no profile is needed; what a job carries
(arguments, results, error text) stays out of the answer (:mod:`cinerec.services.job_state`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cinerec.services import job_state
from cinerec.web.deps import PlatformDep
from cinerec.web.schemas import COMMON_ERRORS, MAX_ID, JobIdPath, JobPublic
from cinerec.web.security import require_csrf

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
