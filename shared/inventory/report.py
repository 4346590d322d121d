"""The inventory across every registered source, and the subject-access request per personId.

``inventory()`` asks each source for its summary side by side; ``person()`` collects what each
holds about one personId; ``erase()`` deletes it through each source's own delete path and
reads again to show that nothing is left.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from shared import clock
from shared.galleries.repository import person_not_found
from shared.inventory.registry import sources

# Its own pool: a source's summary may itself fan out on the scan pool.
_sources_pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="inventory-source")


def inventory() -> dict:
    listed = sources()
    summaries = list(_sources_pool.map(lambda source: source.summary(), listed))
    return {"generatedDateTime": clock.timestamp(),
            "templates": sum(summary.get("templates") or 0 for summary in summaries),
            "sources": [{"name": source.name, "title": source.title, **summary}
                        for source, summary in zip(listed, summaries)]}


def person(person_id: str) -> dict:
    held = [holding for found in _sources_pool.map(lambda source: source.holdings(person_id), sources())
            for holding in found]
    return {"personId": person_id, "generatedDateTime": clock.timestamp(), "holdings": held}


def erase(person_id: str) -> dict:
    """Every holding deleted; PersonNotFound when no source held the personId."""
    erased = [holding for source in sources() for holding in source.erase(person_id)]
    if not erased:
        raise person_not_found(person_id)
    return {"personId": person_id, "erased": erased, "remaining": person(person_id)["holdings"]}
