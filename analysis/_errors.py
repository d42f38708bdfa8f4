from __future__ import annotations

from pathlib import Path


class AnalysisError(Exception):
    """Input the analysis cannot use: names the file and the problem in one line."""

    def __init__(self, path: Path | str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = Path(path)
        self.problem = problem
