"""Tally's benchmark peer: the same API in FastAPI (see bench/README.md)."""

VERSION = "0.1.0"
