"""What the Mess3 benchmarks time: the paper's Mess3 (0.05, 0.85), a paper-size model (a run's trained
checkpoint, else an untrained one) and the model's prefix set."""

from flax import nnx

import analysis
import hmm
from models.config import ModelConfig
from models.transformer import Transformer


def mess3_bench(checkpoint_dir=None):
    """`(process, model, kind, tokens_seen, prefixes)`: the model from the latest checkpoint of
    `checkpoint_dir` (kind "trained", with the tokens it saw), else untrained (tokens None)."""
    process = hmm.get_process("mess3", x=0.05, alpha=0.85)
    if checkpoint_dir is None:
        model, kind, tokens = Transformer(ModelConfig(vocab_size=3), rngs=nnx.Rngs(0)), "untrained", None
    else:
        from models.restore import load_checkpoint

        ck = load_checkpoint(checkpoint_dir)
        model, kind = ck.model, "trained"
        tokens = ck.step * ck.train_config.batch_size * ck.model_config.n_ctx
    return process, model, kind, tokens, analysis.prefix_set(process, analysis.input_layout(model))
