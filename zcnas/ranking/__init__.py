"""Ranking: candidates, scorers, selectors, constraints and confirmers composed into ``rank``,
``search`` and the pre-filter (see :mod:`zcnas.ranking.stages`)."""

from zcnas.ranking.candidates import candidates, read_arch_file
from zcnas.ranking.confirm import (
    BenchmarkConfirmer,
    Confirmation,
    Confirmer,
    TrainingConfirmer,
    make_confirmer,
)
from zcnas.ranking.prefilter import Pick, Prefilter, PrefilterResult, prefilter
from zcnas.ranking.rank import RankResult, constrain, rank
from zcnas.ranking.scoring import ScoringConfig, build_seeded, score_architectures, wide_scores
from zcnas.ranking.search import SearchPipeline, SearchResult, search
from zcnas.ranking.stages import (
    AggregateSelector,
    Candidates,
    Constraints,
    ProxyScorer,
    Scorer,
    Selector,
    StoredScorer,
    SurrogateSelector,
    order_by,
)

__all__ = ["AggregateSelector", "BenchmarkConfirmer", "Candidates", "Confirmation", "Confirmer", "Constraints",
           "Pick", "Prefilter", "PrefilterResult", "ProxyScorer", "RankResult", "Scorer", "ScoringConfig",
           "SearchPipeline", "SearchResult", "Selector", "StoredScorer", "SurrogateSelector", "TrainingConfirmer",
           "build_seeded", "candidates", "constrain", "make_confirmer", "order_by", "prefilter", "rank",
           "read_arch_file", "score_architectures", "search", "wide_scores"]
