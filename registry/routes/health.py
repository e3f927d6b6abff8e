"""Liveness and readiness for load balancers."""

from __future__ import annotations

from fastapi import APIRouter
from sqlmodel import select

from registry.deps import SessionDep
from registry.schemas import Health

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=Health)
def health(session: SessionDep) -> Health:
    """Ready when the database answers."""
    session.exec(select(1))
    return Health(status="ok")
