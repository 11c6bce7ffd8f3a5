"""A figure: repeated measurements of one thing, each paired with its floor from the same run.

The ratio of each pair (value / floor) is what the report shows; min/median/max are over the
repeats. Absolute values are kept as context only: these machines are noisy and shared.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field


def ratio(value: float, floor: float) -> float:
    """value / floor; 0 over a 0 floor is "at the floor" (1.0), anything else over 0 is inf."""
    if floor == 0:
        return 1.0 if value == 0 else float("inf")
    return value / floor


def spread(samples: list[float]) -> dict[str, float]:
    return {"min": min(samples), "median": statistics.median(samples), "max": max(samples)}


@dataclass
class Goal:
    on: str  # which number the goal bounds: "ratio", "value", or "added" (value - floor)
    max: float
    at: str = "max"  # over the repeats: the worst ("max") or the "median"

    def met(self, figure: Figure) -> bool:
        numbers = {"ratio": figure.ratios, "value": figure.values,
                   "added": [v - f for v, f in zip(figure.values, figure.floors, strict=True)]}
        pick = statistics.median if self.at == "median" else max
        return pick(numbers[self.on]) <= self.max

    def text(self) -> str:
        unit = "x" if self.on == "ratio" else ""
        where = " (median)" if self.at == "median" else ""
        return f"{self.on} <= {self.max:g}{unit}{where}"


@dataclass
class Figure:
    suite: str
    name: str
    unit: str  # of values and floors: "s", "commands", "writes", "ms"
    floor: str  # what the floor is
    values: list[float] = field(default_factory=list)
    floors: list[float] = field(default_factory=list)
    goal: Goal | None = None
    note: str = ""

    def add(self, value: float, floor: float) -> None:
        self.values.append(value)
        self.floors.append(floor)

    @property
    def ratios(self) -> list[float]:
        return [ratio(v, f) for v, f in zip(self.values, self.floors, strict=True)]

    @property
    def met(self) -> bool | None:
        return None if self.goal is None or not self.values else self.goal.met(self)

    def to_json(self) -> dict:
        out = asdict(self)
        out["goal"] = None if self.goal is None else {**asdict(self.goal), "met": self.met}
        if self.values:
            out.update(ratio=spread(self.ratios), value=spread(self.values),
                       floor_value=spread(self.floors))
        return out
