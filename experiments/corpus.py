"""`python -m experiments.corpus`: installs the real-text corpus (the module lives in experiments.llm.corpus)."""

from experiments.llm.corpus import main

if __name__ == "__main__":
    main()
