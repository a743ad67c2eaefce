"""Project memory: retrieval memory, learned rules and the intention anchor (issue 8)."""
