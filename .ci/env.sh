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

# Builds the Rust core into the virtualenv as the `flacarray` package, with
# libFLAC beside our codec (the tests compare the two; a user's
# `pip install .` has no libFLAC and needs no cmake) and the functions only
# the tests call (`test-hooks`).
build_python_package() {
    maturin develop --release --quiet --features libflac,test-hooks
}

# Runs a command with the PyO3 environment maturin uses for its builds.
with_maturin_env() {
    local config
    config=$(ls "$CARGO_TARGET_DIR"/maturin/pyo3-config-*.txt 2>/dev/null | head -n 1 || true)
    PYO3_BUILD_EXTENSION_MODULE=1 \
    PYO3_CONFIG_FILE="$config" \
    PYO3_ENVIRONMENT_SIGNATURE="$(python -c 'import sys; print(f"cpython-{sys.version_info[0]}.{sys.version_info[1]}-64bit")')" \
    PYO3_PYTHON="$VENV/bin/python" \
    PYTHON_SYS_EXECUTABLE="$VENV/bin/python" \
    "$@"
}

# Parallel HDF5 for the MPI tests of h5py's `mpio` driver: the PyPI h5py is
# serial, so this uses Debian's h5py built against Open MPI (with Debian's
# mpi4py, numpy and pytest) in a virtualenv over the system Python, into
# which our abi3 wheel is installed without dependencies. It never shares a
# process with the PyPI mpich used by the other MPI tests. Prints the
# virtualenv's python.
setup_parallel_hdf5() {
    local packages="python3-h5py-mpi python3-mpi4py python3-pytest openmpi-bin"
    if ! dpkg -s $packages >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends $packages >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq --no-install-recommends $packages >/dev/null; }
    fi
    local venv="$CACHE/mpio-venv" wheels="$CACHE/wheels"
    if [ ! -x "$venv/bin/python" ]; then
        /usr/bin/python3 -m venv --system-site-packages "$venv"
    fi
    rm -rf "$wheels"
    maturin build --release --quiet -o "$wheels" >&2
    "$venv/bin/python" -m pip install --quiet --no-deps --force-reinstall "$wheels"/flacarray-*.whl
    echo "$venv/bin/python"
}
