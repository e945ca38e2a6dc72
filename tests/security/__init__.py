"""Security tests of issue #10 (a package, so that its conftest does not shadow tests/conftest.py)."""
