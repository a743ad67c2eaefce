"""Command-line interface (Typer + rich). Commands stay thin: parse, call a service, render."""
