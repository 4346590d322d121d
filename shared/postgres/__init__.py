"""PostgreSQL + pgvector as the search engine of the PersonDirectory, LargePersonGroups and
LargeFaceLists (FACE_SEARCH_ENGINE=postgres); see docs/scale.md."""
