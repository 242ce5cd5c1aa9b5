"""Validated records -> a release folder, its records in the root, diff and publication."""
