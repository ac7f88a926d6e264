"""Our package under the reference's module names, so that the reference
0.4.1's own test modules (copied from its wheel into `tests/` beside these
at test time, never committed) import it through their relative imports."""
