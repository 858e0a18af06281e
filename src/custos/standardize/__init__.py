"""Standardisation of names and US addresses into comparable columns before matching."""
