"""All behaviour of the face service: the engine, storage, the API layer and the galleries."""
