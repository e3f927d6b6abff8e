"""One module per `aigov` subcommand; each defines `register(subparsers)` and imports heavy code lazily."""
