"""The one stage interface: what a stage of the analysis sees, and what it is."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import hmm


@dataclass
class StageContext:
    """Everything a stage reads, and the report dict (the future `analysis.json`) every stage writes into."""

    config: object  # an ExperimentConfig
    process: hmm.Process  # or a data source without finite states (hmm.DirichletMarkov)
    run_dir: Path
    model: object  # the trained model (any model with the interface of `models.interface.Model`)
    tree: object = None  # the exact mixed-state tree at the model's context, or None (sampled prefixes)
    progress: bool = False
    report: dict = field(default_factory=dict)
    result: object = None  # the regression's `AnalysisResult`, set by the regression stage

    @property
    def seed(self) -> int:
        return self.config.train.seed

    def add_figures(self, paths: dict) -> None:
        """Record figure files (absolute, or relative to the run directory) under `report["figures"]`."""
        figures = self.report.setdefault("figures", {})
        for key, path in paths.items():
            path = Path(path)
            figures[key] = str(path.relative_to(self.run_dir) if path.is_relative_to(self.run_dir) else path)


@dataclass(frozen=True)
class Stage:
    """One analysis stage: `run(ctx)` writes its section `name` of the report when `enabled(ctx)`.

    `finite_states`: the stage needs an `hmm.Process` (beliefs over finite states); it is skipped for a data
    source without them (`hmm.DirichletMarkov`).
    """

    name: str
    title: str
    run: Callable[[StageContext], None]
    enabled: Callable[[StageContext], bool] = lambda ctx: True
    finite_states: bool = True

    def applies(self, ctx: StageContext) -> bool:
        return (isinstance(ctx.process, hmm.Process) or not self.finite_states) and self.enabled(ctx)
