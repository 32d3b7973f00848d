"""Staffing Hub vs PostGraphile benchmark: `python -m bench.compare` (see bench/README.md)."""
