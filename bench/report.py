"""The figures a benchmark prints: one line per figure, ``name: value unit (ratio X vs baseline)``."""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline: float | None = None
    """The same figure measured for the baseline in the same run; the ratio is value / baseline."""
    target: str = ""

    def line(self) -> str:
        value = f"{self.value:.3g}" if abs(self.value) < 1000 else f"{self.value:.0f}"
        if self.baseline is None or not self.baseline or math.isnan(self.baseline):
            ratio = "n/a"
        else:
            ratio = f"{self.value / self.baseline:.2f}"
        suffix = f" [target: {self.target}]" if self.target else ""
        return f"{self.name}: {value} {self.unit} (ratio {ratio} vs baseline){suffix}"


def print_figures(title: str, figures: list[Figure]) -> None:
    print(f"== {title}")
    for figure in figures:
        print(figure.line())
