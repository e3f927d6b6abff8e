"""The public registry: a FastAPI service over an SQL store (SQLite by default, PostgreSQL by URL).

The top layer of aigov and the only one with a web server and a database. Certification bodies issue,
suspend, reinstate, revoke and renew certificates through an authenticated API; every change is one
transaction that updates the credential, its status list bits, the re-signed status list and an append-only,
hash-chained event log. Reads are public.

This package is an application: module names carry no leading underscore, and importing the package itself
stays cheap (the web framework and the ORM load only with the modules that need them).
"""
