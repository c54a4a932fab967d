"""Hostile-input fuzz targets, shared by tests/security/test_hostile_input.py and
bench/fuzz_bench.py."""
