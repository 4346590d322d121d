"""NCRONTAB schedules as Azure Functions timer triggers use them (6 fields, UTC):

    {second} {minute} {hour} {day} {month} {day-of-week}

Each field takes ``*``, numbers, ranges ``a-b``, steps ``*/n`` or ``a-b/n``, and comma
lists; months and days of week also take English three-letter names. Day-of-month and
day-of-week must both match.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = {name: index + 1 for index, name in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DAYS = {name: index for index, name in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_FIELDS = (  # (low, high, names)
    (0, 59, {}), (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, _MONTHS), (0, 6, _DAYS),
)
_SEARCH_DAYS = 366 * 5  # every valid schedule fires within a leap-year cycle


@dataclass(frozen=True)
class Schedule:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        fields = expression.split()
        if len(fields) != 6:
            raise ValueError(f"NCRONTAB {expression!r}: expected 6 fields, got {len(fields)}")
        sets = [_parse_field(text, *spec) for text, spec in zip(fields, _FIELDS)]
        sets[5] = frozenset(day % 7 for day in sets[5])
        return cls(*sets)

    def next_after(self, moment: datetime) -> datetime:
        """The first firing time strictly after ``moment`` (same tzinfo)."""
        start = moment.replace(microsecond=0) + timedelta(seconds=1)
        day = start.replace(hour=0, minute=0, second=0)
        for _ in range(_SEARCH_DAYS):
            if self._day_matches(day):
                fire = self._first_time_on(day, start)
                if fire is not None:
                    return fire
            day += timedelta(days=1)
        raise ValueError("schedule never fires")

    def _day_matches(self, day: datetime) -> bool:
        weekday = (day.weekday() + 1) % 7  # Python: Monday = 0; cron: Sunday = 0
        return day.month in self.months and day.day in self.days and weekday in self.weekdays

    def _first_time_on(self, day: datetime, start: datetime) -> datetime | None:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                for second in sorted(self.seconds):
                    candidate = day.replace(hour=hour, minute=minute, second=second)
                    if candidate >= start:
                        return candidate
        return None


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> frozenset[int]:
    values: set[int] = set()
    for part in text.lower().split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        elif "-" in base:
            first_text, last_text = base.split("-", 1)
            first, last = _value(first_text, names), _value(last_text, names)
        else:
            first = _value(base, names)
            last = high if step_text else first
        if step < 1 or not low <= first <= last <= high + (1 if names is _DAYS else 0):
            raise ValueError(f"NCRONTAB field {text!r} is out of range {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _value(text: str, names: dict[str, int]) -> int:
    return names[text] if text in names else int(text)
