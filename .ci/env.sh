# Sourced by the other scripts: a cached virtualenv with the pinned tools and
# a cargo target dir outside the clone, both kept between runs on a machine.
# Override the location with FLACARRAY_CACHE.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${FLACARRAY_CACHE:-$HOME/.cache/flacarray}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$CACHE/target}"
VENV="$CACHE/venv"
mkdir -p "$CACHE"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
stamp="$VENV/.requirements"
if ! cmp -s "$ROOT/.ci/requirements.txt" "$stamp"; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$ROOT/.ci/requirements.txt"
    cp "$ROOT/.ci/requirements.txt" "$stamp"
fi
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PATH"
cd "$ROOT"

# Builds the Rust core into the virtualenv as the `flacarray` package.
build_python_package() {
    maturin develop --release --quiet
}
