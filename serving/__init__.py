"""povwatch serving."""
