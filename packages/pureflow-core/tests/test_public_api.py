"""The public surface: everything in ``__all__`` imports, and no public signature exposes
anyio, asyncio or trio types (spec-2 §15 item 29)."""

from __future__ import annotations

import inspect
import typing

from pureflow import core

BANNED = ("anyio", "asyncio", "trio", "sniffio")


def _annotation_texts(obj: object) -> list[str]:
    texts: list[str] = []
    try:
        signature = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return texts
    texts.extend(
        str(parameter.annotation)
        for parameter in signature.parameters.values()
        if parameter.annotation is not inspect.Parameter.empty
    )
    if signature.return_annotation is not inspect.Signature.empty:
        texts.append(str(signature.return_annotation))
    try:
        hints = typing.get_type_hints(obj)
    except Exception:
        hints = {}
    texts.extend(repr(hint) for hint in hints.values())
    return texts


def _public_members(obj: type) -> list[object]:
    members: list[object] = []
    for name, member in inspect.getmembers(obj):
        if name.startswith("_") and name not in ("__init__", "__aiter__", "__anext__"):
            continue
        if callable(member) or isinstance(member, property):
            members.append(member.fget if isinstance(member, property) else member)
    return members


def test_all_names_import() -> None:
    for name in core.__all__:
        assert hasattr(core, name), name


def test_no_substrate_types_in_public_signatures() -> None:
    offenders: list[str] = []
    for name in core.__all__:
        obj = getattr(core, name)
        candidates: list[object] = [obj]
        if inspect.isclass(obj):
            candidates.extend(_public_members(obj))
            annotations = getattr(obj, "__annotations__", {})
            candidates_text = [str(value) for value in annotations.values()]
        else:
            candidates_text = []
        for candidate in candidates:
            candidates_text.extend(_annotation_texts(candidate))
        offenders.extend(
            f"{name}: {text}"
            for text in candidates_text
            if any(banned in text for banned in BANNED)
        )
    assert offenders == []


def test_module_docstrings() -> None:
    import pkgutil

    for info in pkgutil.walk_packages(core.__path__, "pureflow.core."):
        module = __import__(info.name, fromlist=["_"])
        assert module.__doc__, info.name
