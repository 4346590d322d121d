"""LargeFaceList (face-api.md §7): up to 1,000,000 faces, searched through a trained snapshot."""
from shared.galleries.kinds import LARGE_FACE_LIST
from shared.galleries.routes import container_blueprint

bp = container_blueprint(LARGE_FACE_LIST)
