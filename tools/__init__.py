"""Developer tooling run by the Makefile (the lock, its audit); not part of the service."""
