"""The training loss at fine resolution: per-step losses (already on the host after every compiled call)
averaged over fixed bins of steps, aligned to absolute step numbers so that a resumed run logs the same
numbers as one never interrupted.
"""

POINTS = 1000  # about this many points over a whole run


def bin_width(num_steps: int) -> int:
    return max(1, num_steps // POINTS)


class LossLog:
    """Per member: the running sum of the current bin and the finished bins `(last step, mean loss)`."""

    def __init__(self, members: int, width: int, saved: dict | None = None):
        self.width = width
        saved = saved or {}
        self.sums = list(saved.get("sums", [0.0] * members))
        self.count = saved.get("count", 0)
        self.points = [list(map(tuple, p)) for p in saved.get("points", [[] for _ in range(members)])]

    def add(self, start_step: int, losses_ExK) -> None:
        """Losses of steps `start_step .. start_step + K - 1` (one row per member), summed step by step."""
        for offset in range(losses_ExK.shape[1]):
            for member, loss in enumerate(losses_ExK[:, offset]):
                self.sums[member] += float(loss)
            self.count += 1
            step = start_step + offset + 1  # steps done after this one
            if step % self.width == 0:
                self.flush(step)

    def flush(self, step: int) -> None:
        """Close the current bin (also at the end of training, when it may be short)."""
        if self.count:
            for member, total in enumerate(self.sums):
                self.points[member].append((step, total / self.count))
        self.sums, self.count = [0.0] * len(self.sums), 0

    def take(self, member: int) -> dict:
        """The finished bins of `member` since the last call, as metrics keys (then forgotten)."""
        steps, losses = zip(*self.points[member]) if self.points[member] else ((), ())
        self.points[member] = []
        return {"train/loss_steps": list(steps), "train/loss_values": list(losses)}

    def state(self) -> dict:
        return {"sums": self.sums, "count": self.count, "points": [[list(p) for p in m] for m in self.points]}
