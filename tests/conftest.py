"""Shared fixtures: small synthetic worlds built by the generator, temp homes."""
