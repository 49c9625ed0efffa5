"""Shared test helpers (fakes and fixtures support) for the btassist test suite."""
