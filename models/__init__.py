"""Small transformers for belief-state experiments: an NNX decoder with named residual sites,
on-device training (single runs, vmapped ensembles, data-parallel meshes), exact evaluation over the
mixed-state tree, and self-describing orbax checkpoints that resume."""

from models.checkpoint import CheckpointError, list_checkpoints
from models.config import ConfigError, ModelConfig, TrainConfig
from models.data import context_length, inputs_from_context, position_beliefs, sample_batch
from models.ensemble import EnsembleResult, train_ensemble
from models.evaluation import EvalResult, EvalSet, build_eval_set, evaluate
from models.interface import Model
from models.loop import TrainingDiverged
from models.optim import make_optimizer, make_schedule
from models.pretrained import load_pretrained
from models.restore import Checkpoint, load_checkpoint
from models.sharding import ShardingError, data_mesh
from models.trainer import TrainResult, train
from models.transformer import Transformer, residual_sites, site_names

__all__ = [
    "Checkpoint",
    "CheckpointError",
    "ConfigError",
    "EnsembleResult",
    "EvalResult",
    "EvalSet",
    "Model",
    "ModelConfig",
    "ShardingError",
    "TrainConfig",
    "TrainResult",
    "Transformer",
    "TrainingDiverged",
    "build_eval_set",
    "context_length",
    "data_mesh",
    "evaluate",
    "inputs_from_context",
    "list_checkpoints",
    "load_checkpoint",
    "load_pretrained",
    "make_optimizer",
    "make_schedule",
    "position_beliefs",
    "residual_sites",
    "sample_batch",
    "site_names",
    "train",
    "train_ensemble",
]
