"""povwatch models."""
