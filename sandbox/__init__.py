"""The sandbox: a cabinet emulator and register hosts for demos, tests and benchmarks.

Not part of the collection: nothing under ``plugins/`` imports it, and it is left out of the galaxy
tarball. Entry point: ``python -m sandbox {cabinet|registers} ...`` from the repository root.
"""
