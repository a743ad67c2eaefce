"""What the routes call: one module per resource, no HTTP in sight (errors are domain errors
or :class:`autopack.api.errors.ApiError`)."""
