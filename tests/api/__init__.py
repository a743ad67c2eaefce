"""Tests of autopack.api (the REST API) and of `autopack serve` / `autopack keys`."""
