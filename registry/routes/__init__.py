"""One router per resource."""

from registry.routes import credentials, documents, health, identity, status

ROUTERS = (credentials.router, status.router, identity.router, documents.router, health.router)

__all__ = ["ROUTERS"]
