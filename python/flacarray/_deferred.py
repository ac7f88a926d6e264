"""Registering with optional libraries without importing them.

`import flacarray` must stay cheap for a numpy-only user, yet a user of
pyarrow or Polars expects the `flacarray.flac` Arrow type and the
`pl.col(c).flac` namespace to exist as soon as both packages are imported,
in either order. So: if the library is already imported, register now;
otherwise put a finder on `sys.meta_path` that runs the registration right
after the library's own import finishes (and then removes itself).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType

_PENDING: dict[str, Callable[[], None]] = {}


def _run(name: str) -> None:
    register = _PENDING.pop(name, None)
    if register is None:
        return
    try:
        register()
    except Exception as err:  # never break the user's import of the library
        warnings.warn(
            f"flacarray could not register with {name}: {err}", RuntimeWarning, stacklevel=2
        )


class _AfterImport(importlib.abc.MetaPathFinder):
    """Wraps the loader of a watched top-level module so the registration
    runs once the module has executed."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _PENDING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        execute = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            execute(module)
            _run(fullname)

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


_FINDER = _AfterImport()


def when_imported(name: str, register: Callable[[], None]) -> None:
    """Runs `register` now if module `name` is imported, else right after
    it is (once)."""
    if name in sys.modules:
        _PENDING[name] = register
        _run(name)
        return
    _PENDING[name] = register
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
