"""Staging: splitting inputs into records, typing them, and keeping every rejected line."""
