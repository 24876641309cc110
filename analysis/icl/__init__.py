"""In-context learning: a model's loss by position beside the Bayes predictors (finite pool, Dirichlet prior)
and the in-context unigram/bigram estimators; distances to both Bayes predictors across task diversity."""
