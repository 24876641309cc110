"""What produced the numbers: library versions, JAX backend and devices, CPU model and core count, and how busy
the machine was (its 1-minute load average)."""

import os
import platform
from pathlib import Path

import jax
import jaxlib
import numpy as np


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo on Linux, else the platform's processor string)."""
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text(errors="replace").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> float | None:
    """The 1-minute load average now (None where the platform has none)."""
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def environment() -> dict:
    """Versions, backend, hardware and the load average when called, for `analysis.json` (a long run adds
    `load_average_1min_end` with `load_average()` when it finishes)."""
    devices = jax.devices()
    return {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "numpy": np.__version__,
        "backend": jax.default_backend(),
        "devices": [f"{d.platform}:{getattr(d, 'device_kind', '')}" for d in devices],
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average_1min": load_average(),
    }
