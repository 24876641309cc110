"""Data parallelism on 4 forced CPU devices equals the single-device result (run in a subprocess so
the device count does not leak into other tests)."""

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json
import jax
import numpy as np
from flax import nnx
import hmm, models
from models import ModelConfig, TrainConfig, ShardingError, data_mesh

assert jax.device_count() == 4, jax.devices()
P = hmm.get_process("mess3", x=0.05, alpha=0.85)
MC = ModelConfig(n_layers=2, d_model=16, n_heads=2, d_head=4, d_mlp=32, n_ctx=6)
TC = TrainConfig(num_steps=30, batch_size=16, steps_per_call=10, eval_every=10, warmup_steps=5, learning_rate=1e-2)
one, four = data_mesh(jax.devices()[:1]), data_mesh()

def leaves(model):
    return [np.asarray(x) for x in jax.tree.leaves(nnx.to_pure_dict(nnx.state(model)))]

def gap(a, b):
    return max(float(np.max(np.abs(x - y))) for x, y in zip(leaves(a), leaves(b)))

out = {}
r1 = models.train(P, MC, TC, progress=False, mesh=one)
r4 = models.train(P, MC, TC, progress=False, mesh=four)
out["param_gap"] = gap(r1.model, r4.model)
out["loss_1"] = [m["eval/loss"] for m in r1.metrics]
out["loss_4"] = [m["eval/loss"] for m in r4.metrics]
out["train_1"] = [m.get("train/loss") for m in r1.metrics]
out["train_4"] = [m.get("train/loss") for m in r4.metrics]
e4 = models.train_ensemble(P, MC, TC, seeds=[0, 1], progress=False, mesh=four)
out["ensemble_gap"] = gap(e4.models[0], r1.model)
try:
    models.train(P, MC, TC.replace(batch_size=6), progress=False, mesh=four)
    out["error"] = None
except ShardingError as e:
    out["error"] = str(e)
print("RESULT" + json.dumps(out))
"""


def test_four_devices_equal_one_device():
    env = {
        **os.environ,
        "XLA_FLAGS": os.environ.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4",
        "JAX_PLATFORMS": "cpu",
    }
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT") :])
    assert out["param_gap"] < 1e-4, out
    for a, b in zip(out["loss_1"], out["loss_4"]):
        assert abs(a - b) < 1e-5, out
    for a, b in zip(out["train_1"][1:], out["train_4"][1:]):
        assert abs(a - b) < 1e-5, out
    assert out["ensemble_gap"] < 1e-4, out
    assert out["error"] and "batch_size=6" in out["error"] and "4 devices" in out["error"]
