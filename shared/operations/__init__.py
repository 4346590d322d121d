"""Long-running operations: the status behind every 202 + Operation-Location (face-api.md §10)."""
