"""Token-id prompts for a word task: `Q: x\\nA: y\\n\\n` demonstrations, then `Q: x\\nA:` (the answer is the
next token). Pieces are encoded separately and concatenated, so every prompt of a task has the same length
once the pairs are filtered to a fixed input length and one-token outputs (`TaskTokens`)."""

from dataclasses import dataclass

import numpy as np

from models.config import ConfigError
from models.keys import numpy_rng


@dataclass(frozen=True, eq=False)
class TaskTokens:
    """A task's pairs as token ids: `inputs_NxI` (each input's ids, all of one length) and `outputs_N`."""

    name: str
    inputs_NxI: np.ndarray
    outputs_N: np.ndarray
    q_ids: tuple
    a_ids: tuple
    sep_ids: tuple

    @classmethod
    def encode(cls, tokenizer, name: str, pairs, min_pairs: int = 12) -> "TaskTokens":
        """Keep the pairs whose output `" y"` is one token and whose input `" x"` has the most common length."""
        enc = lambda text: tuple(tokenizer.encode(text).ids)
        xs, ys = [enc(" " + x) for x, _ in pairs], [enc(" " + y) for _, y in pairs]
        single = [i for i, y in enumerate(ys) if len(y) == 1]
        if not single:
            raise ConfigError(f"task {name!r}: no pair has a one-token output")
        length = np.bincount([len(xs[i]) for i in single]).argmax()
        keep = [i for i in single if len(xs[i]) == length]
        if len(keep) < min_pairs:
            raise ConfigError(
                f"task {name!r}: {len(keep)} usable pairs (one-token outputs, inputs of {length} "
                f"tokens): at least {min_pairs} needed"
            )
        return cls(
            name,
            np.array([xs[i] for i in keep], np.int32),
            np.array([ys[i][0] for i in keep], np.int32),
            enc("Q:"),
            enc("\nA:"),
            enc("\n\n"),
        )

    @property
    def size(self) -> int:
        return len(self.outputs_N)

    def prompt(self, demo_inputs, demo_outputs, query) -> np.ndarray:
        """Ids of the demonstrations (pair indices `demo_inputs[i]` shown with output `demo_outputs[i]`), then
        the query pair's question."""
        ids = []
        for i, o in zip(demo_inputs, demo_outputs):
            ids += [*self.q_ids, *self.inputs_NxI[i], *self.a_ids, int(self.outputs_N[o]), *self.sep_ids]
        return np.array(ids + [*self.q_ids, *self.inputs_NxI[query], *self.a_ids], np.int32)


def prompt_set(task: TaskTokens, count: int, shots: int, seed: int, shuffled: bool = False):
    """`(tokens [count, P], answers [count])`: `shots` distinct random demonstrations and a query not among
    them; `shuffled` pairs each demonstration's input with another demonstration's output (a random
    permutation of the outputs, none left in place when shots > 1)."""
    if task.size < shots + 1:
        raise ConfigError(f"task {task.name!r} has {task.size} pairs: fewer than shots + 1 = {shots + 1}")
    rng = numpy_rng(seed, "fv_prompts", int(shuffled))
    prompts, answers = [], []
    for _ in range(count):
        chosen = rng.choice(task.size, shots + 1, replace=False)
        demos, query = chosen[:-1], chosen[-1]
        outputs = demos
        if shuffled and shots > 1:
            outputs = demos[np.roll(np.arange(shots), 1 + rng.integers(shots - 1))]
        prompts.append(task.prompt(demos, outputs, query))
        answers.append(task.outputs_N[query])
    return np.stack(prompts), np.array(answers, np.int32)
