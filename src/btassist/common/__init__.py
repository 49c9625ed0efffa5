"""Shared vocabulary every package may import: languages, regions, text folding, tabular files."""
