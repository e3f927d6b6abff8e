"""The public API of the keys package is exactly its curated `__all__`."""

from __future__ import annotations

import types

import keys


def test_all_names_exist() -> None:
    missing = [name for name in keys.__all__ if not hasattr(keys, name)]
    assert missing == []
    assert len(set(keys.__all__)) == len(keys.__all__)


def test_every_public_name_is_in_all() -> None:
    public = {
        name
        for name, value in vars(keys).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(keys.__all__)


def test_public_objects_live_in_private_modules() -> None:
    for name in keys.__all__:
        module = getattr(getattr(keys, name), "__module__", None)
        if module is not None and module != "builtins":
            assert module.startswith("keys._"), name
