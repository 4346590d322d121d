"""The PersonDirectory: persons with faces per recognition model, dynamic person groups, and
their 1:N search without training (face-api.md §10; docs/directory.md)."""
