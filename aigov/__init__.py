"""The `aigov` command line: one entry point over keys, issuer, verifier and registry."""

__all__: list[str] = []
