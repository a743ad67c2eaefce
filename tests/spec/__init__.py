"""Tests of autopack.spec."""
