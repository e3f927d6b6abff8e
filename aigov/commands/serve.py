"""`aigov serve`: run the registry under uvicorn.

Settings come from AIGOV_* environment variables (see registry/config.py). The server refuses to start on a
database whose schema is not at the current migration, or on an SQLite file that does not exist: run
`aigov db upgrade` first.

Defaults, measured on a 2-core machine (benchmarks/README.md, "Registry"): uvicorn with its C HTTP parser
(httptools) and event loop (uvloop), two worker processes. Two workers serve about 1.4x the reads of one;
writes on SQLite queue for the one database lock whatever the number. granian was measured too: a little
faster on the status list endpoint, slower on issuance, so uvicorn stays.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from aigov.cli import EXIT_OK, UsageError
from aigov.commands.db import describe, load_settings, require_database

APP_FACTORY = "registry.app:create_app_from_env"


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port {port} is out of range")
    return port


def _workers(text: str) -> int:
    workers = int(text)
    if workers < 1:
        raise argparse.ArgumentTypeError("at least one worker")
    return workers


def register(subparsers: Any) -> None:
    serve = subparsers.add_parser("serve", help="run the registry (HTTP API)", description=__doc__)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--workers", type=_workers, default=2, help="worker processes (default 2; about one per core)"
    )
    serve.add_argument(
        "--http",
        choices=("httptools", "h11"),
        default="httptools",
        help="HTTP/1.1 parser (default httptools, in C; h11 is pure Python)",
    )
    serve.add_argument(
        "--loop", choices=("uvloop", "asyncio"), default="uvloop", help="event loop (default uvloop)"
    )
    serve.add_argument("--no-access-log", action="store_true", help="do not log every request")
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlmodel import Session

    from registry import highwater
    from registry.config import Settings
    from registry.db import make_engine
    from registry.migrate import SchemaNotCurrentError, check_current

    settings = load_settings(Settings)
    require_database(settings.database_url, prefix="refusing to start: ")
    engine = make_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        check_current(engine)
        with Session(engine) as session:
            highwater.check(session, settings.high_water_path)
    except (SchemaNotCurrentError, highwater.HighWaterError) as e:
        raise UsageError(f"refusing to start: {e}") from e
    except SQLAlchemyError as e:
        raise UsageError(f"refusing to start: cannot read the database: {describe(e)}") from e
    finally:
        engine.dispose()

    import uvicorn

    # The public URL first: it is the origin clients must use (status list URLs and DIDs name it); the socket
    # address is where this process listens, behind whatever serves that URL.
    print(f"aigov registry at {settings.public_url} (listening on {args.host}:{args.port})", file=sys.stderr)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        http=args.http,
        loop=args.loop,
        access_log=not args.no_access_log,
        server_header=False,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default; the registry decides whom to
        # believe itself (AIGOV_RATE_LIMIT_TRUSTED_PROXIES, none by default: registry.ratelimit).
        proxy_headers=False,
    )
    return EXIT_OK
