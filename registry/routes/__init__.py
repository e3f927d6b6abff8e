"""One router per resource."""

from registry.routes import credentials, documents, health, identity, pages, status, trust

ROUTERS = (
    credentials.router,
    status.router,
    identity.router,
    documents.router,
    trust.router,
    health.router,
    pages.router,
)

__all__ = ["ROUTERS"]
