"""povwatch training."""
