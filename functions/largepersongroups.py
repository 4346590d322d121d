"""LargePersonGroup (face-api.md §9): up to 1,000,000 persons, trained for identify."""
from shared.galleries.kinds import LARGE_PERSON_GROUP
from shared.galleries.routes import container_blueprint

bp = container_blueprint(LARGE_PERSON_GROUP)
