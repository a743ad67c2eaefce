"""Decisions as data and pure functions: state machines, strategy, (later) governance, routing."""
