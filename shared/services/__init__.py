"""What the service does, one job per module; the functions/ layer only adapts HTTP to these."""
