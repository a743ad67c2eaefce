"""One router per resource: thin (parse, call a service, return a schema)."""
