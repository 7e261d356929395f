"""povwatch features."""
