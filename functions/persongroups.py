"""PersonGroup (face-api.md §8): persons with up to 248 faces each, trained for identify."""
from shared.galleries.kinds import PERSON_GROUP
from shared.galleries.routes import container_blueprint

bp = container_blueprint(PERSON_GROUP)
