"""Static query review: anti-patterns and N+1 detection, without running anything.

Names load lazily: importing the package (or its models) does not import the SQL parsers.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NPlusOne", "ParseWarning", "QueryReview", "review_queries"]


def __getattr__(name: str) -> Any:
    if name == "review_queries":
        from dbspecialist.knowledge.queries.review import review_queries

        return review_queries
    if name in ("NPlusOne", "ParseWarning", "QueryReview"):
        from dbspecialist.knowledge.queries import model

        return getattr(model, name)
    raise AttributeError(name)
