"""Mixed-state tree build time (warm) at several depths, and distinct-state merging. Prints one JSON object."""

import argparse
import json

import hmm
from benchmarks.timing import median_seconds
from hmm.states import distinct_states


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--process", default="mess3")
    parser.add_argument("--depths", type=int, nargs="+", default=[10, 12])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    process = hmm.get_process(args.process)
    results = {}
    for depth in args.depths:
        tree = hmm.mixed_state_presentation(process, depth)
        results[str(depth)] = {
            "prefixes": tree.num_prefixes,
            "tree_seconds": median_seconds(
                lambda depth=depth: hmm.mixed_state_presentation(process, depth), args.repeats
            ),
            "distinct_states_seconds": median_seconds(lambda tree=tree: distinct_states(tree), args.repeats),
        }
    print(json.dumps({"benchmark": "mixed_state_presentation", "process": args.process, "depths": results}))


if __name__ == "__main__":
    main()
