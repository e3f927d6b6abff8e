"""One router per resource."""

from registry.routes import apidocs, credentials, documents, health, identity, pages, schemes, status, trust

ROUTERS = (
    credentials.router,
    status.router,
    identity.router,
    documents.router,
    schemes.router,
    trust.router,
    health.router,
    pages.router,
    apidocs.router,
)

__all__ = ["ROUTERS"]
