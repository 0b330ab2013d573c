"""yuqing."""
