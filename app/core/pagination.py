"""One page of a longer list: the numbers a page navigation needs (shared by the outbox and the campaign page)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Page:
    """`items` are page `number` (from 1) of `total` items shown `per_page` at a time."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (at least one)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        """True when there is a page before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """True when there is a page after this one."""
        return self.number < self.pages

    @property
    def first(self) -> int:
        """The position (from 1) of the page's first item; 0 when there is none."""
        return (self.number - 1) * self.per_page + 1 if self.items else 0

    @property
    def last(self) -> int:
        """The position of the page's last item."""
        return (self.number - 1) * self.per_page + len(self.items)


def page_number(number: int | None, total: int, per_page: int) -> int:
    """The page asked for, kept between 1 and the last page (a page past the end shows the last one)."""
    return min(max(number or 1, 1), max(1, -(-total // per_page)))


def page_of(items: Sequence, number: int | None, per_page: int) -> Page:
    """Page `number` of a list held in memory."""
    number = page_number(number, len(items), per_page)
    return Page(list(items[(number - 1) * per_page:number * per_page]), number, per_page, len(items))
