"""The configs that ship with the lab (no heavy imports: the command line's help lists them)."""

from pathlib import Path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def shipped_configs() -> list[str]:
    """Names of the configs that ship with the lab (`belieflab run NAME`)."""
    return sorted(p.stem for p in CONFIG_DIR.glob("*.yaml"))
