"""What `import flacarray` costs and how the package's modules depend on
each other: no optional library is imported until the user imports it, the
Arrow type and the Polars namespace appear whichever is imported first, and
the package's internal import graph has no cycle."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import flacarray

PACKAGE = Path(flacarray.__file__).parent
OPTIONAL = ("h5py", "zarr", "pyarrow", "polars", "matplotlib", "duckdb", "mpi4py")


def run(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_import_flacarray_imports_no_optional_library():
    loaded = run(
        f"import sys, flacarray\nprint(','.join(m for m in {OPTIONAL!r} if m in sys.modules))"
    )
    assert loaded == ""


@pytest.mark.parametrize("first", ["flacarray", "other"])
def test_polars_namespace_whichever_is_imported_first(first):
    order = (
        "import flacarray\nimport polars as pl"
        if first == "flacarray"
        else ("import polars as pl\nimport flacarray")
    )
    out = run(
        order + "\n"
        "import numpy as np\n"
        "fa = flacarray.FlacArray.from_array(np.arange(6, dtype=np.int32).reshape(2, 3))\n"
        "df = pl.DataFrame({'x': fa.to_polars()})\n"
        "print(df.select(pl.col('x').flac.decompress(1, 3))['x'].to_list())"
    )
    assert out == "[[1, 2], [4, 5]]"


@pytest.mark.parametrize("first", ["flacarray", "other"])
def test_arrow_type_whichever_is_imported_first(first, tmp_path):
    path = tmp_path / "a.parquet"
    flacarray.FlacArray.from_array(
        __import__("numpy").arange(6, dtype="int64").reshape(2, 3)
    ).write_parquet(path)
    order = (
        "import flacarray\nimport pyarrow.parquet as pq"
        if first == "flacarray"
        else ("import pyarrow.parquet as pq\nimport flacarray")
    )
    out = run(order + f"\nprint(pq.read_table({str(path)!r}).schema.field('flac').type)")
    assert out.startswith("extension<flacarray.flac"), out


def test_arrow_type_registered_when_flacarray_imports_pyarrow(tmp_path):
    """The first use of pyarrow is flacarray's own (to_arrow inside
    to_polars): the type still gets registered, without a warning."""
    path = tmp_path / "a.parquet"
    out = run(
        "import numpy as np, flacarray\n"
        "fa = flacarray.FlacArray.from_array(np.arange(6, dtype=np.int32).reshape(2, 3))\n"
        "fa.to_polars()\n"
        f"fa.write_parquet({str(path)!r})\n"
        "import pyarrow.parquet as pq\n"
        f"print(pq.read_table({str(path)!r}).schema.field('flac').type)"
    )
    assert out.startswith("extension<flacarray.flac"), out


def _runtime_imports(path: Path) -> set[str]:
    """The package modules `path` imports when it runs (function-level
    imports included; `if TYPE_CHECKING:` blocks excluded)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(node):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:
                found.update(alias.name for alias in node.names)
            elif node.level == 1:
                found.add(node.module.split(".")[0])
            elif node.level == 0 and node.module and node.module.startswith("flacarray."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("flacarray."):
                    found.add(alias.name.split(".")[1])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    return {name for name in found if name in modules and name != path.stem}


def test_package_import_graph_is_acyclic():
    graph = {p.stem: _runtime_imports(p) for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    assert graph["hdf5"] >= {"array", "_hdf5_group"}  # the parser sees imports
    state: dict[str, str] = {}

    def walk(module, trail):
        if state.get(module) == "done":
            return
        assert state.get(module) != "open", "import cycle: " + " -> ".join(trail + [module])
        state[module] = "open"
        for dep in sorted(graph.get(module, ())):
            walk(dep, trail + [module])
        state[module] = "done"

    for module in sorted(graph):
        walk(module, [])
