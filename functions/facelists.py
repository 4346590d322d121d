"""FaceList (face-api.md §6): up to 1,000 faces, searched exactly, never trained."""
from shared.galleries.kinds import FACE_LIST
from shared.galleries.routes import container_blueprint

bp = container_blueprint(FACE_LIST)
