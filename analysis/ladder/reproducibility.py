"""What produced the numbers: library versions, JAX backend and devices, CPU model and core count."""

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


def environment() -> dict:
    """Versions, backend and hardware, for `analysis.json`."""
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
    }
