"""Packaged default configuration (YAML), read through importlib.resources."""
