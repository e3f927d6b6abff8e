"""The registry's public web pages: server-rendered Jinja2 templates in Japanese and English.

`i18n` chooses the language and loads the message catalogues (compiled from the shipped `.po` files when first
used, so a fresh install never serves stale translations); `render` builds HTML responses with the security
headers every page carries; `views` reads what the pages show; `checking` verifies uploads with the
registry's own trust. The routes live in `registry.routes.pages`.
"""
