"""Identify against the PersonDirectory (all of it, a personIds list or a dynamic group) and
verify against a directory person. No training: the search covers every face whose add
operation succeeded, and no face, person or membership whose delete was answered."""
from __future__ import annotations

from dataclasses import dataclass

from shared.directory import groups, repository, searchable
from shared.engine.types import RECOGNITION_MODELS, Template
from shared.errors import BadArgument
from shared.galleries.search import identified, verify_to_templates
from shared.index.gallery import EmbedderInfo


@dataclass(frozen=True)
class Target:
    """personIds (None: the whole directory, ``["*"]``) or a dynamic person group."""

    person_ids: tuple[str, ...] | None = None
    group_id: str | None = None


def identify(queries: list[tuple[str, Template]], target: Target, max_candidates: int,
             threshold: float) -> list[dict]:
    """One result per (faceId, template) in request order."""
    model = _one_model([template for _, template in queries])
    allow = frozenset(target.person_ids) if target.person_ids is not None else None
    if target.group_id is not None:
        allow = groups.member_set(target.group_id)
    embedders = {EmbedderInfo(template.embedder, template.embedder_version) for _, template in queries}
    if len(embedders) != 1:
        raise BadArgument("The query faces were made by different recognition engine versions.")
    found = searchable.nearest_persons(model, [template.vector for _, template in queries], max_candidates, allow,
                                       embedders.pop())
    return [identified(face_id, template, matches, threshold)
            for (face_id, template), matches in zip(queries, found)]


def verify(query: Template, person_id: str) -> dict:
    """Against the person's faces of the query's recognition model; the best face decides."""
    repository.get_person(person_id)
    model = query.recognition_model
    templates = [face.template for face in repository.find_pack(person_id, model).faces]
    if not templates:
        others = [other for other in RECOGNITION_MODELS
                  if other != model and repository.find_pack(person_id, other).faces]
        if others:
            raise BadArgument(f"The person has no face of the query's recognition model ({model}); "
                              f"its faces are of {', '.join(others)}.")
    return verify_to_templates(query, templates)


def _one_model(templates: list[Template]) -> str:
    models = {template.recognition_model for template in templates}
    if len(models) != 1:
        raise BadArgument(f"The query faces must share one recognition model, not {', '.join(sorted(models))}.")
    return models.pop()

