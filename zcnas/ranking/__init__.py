"""Ranking: candidate sets, scoring into a store, ranking by proxies or aggregates."""

from zcnas.ranking.candidates import candidates, read_arch_file
from zcnas.ranking.rank import RankResult, order_by, rank
from zcnas.ranking.scoring import ScoringConfig, build_seeded, score_architectures, wide_scores

__all__ = ["RankResult", "ScoringConfig", "build_seeded", "candidates", "order_by", "rank",
           "read_arch_file", "score_architectures", "wide_scores"]
from zcnas.ranking.confirm import BenchmarkConfirmer, Confirmation, Confirmer, TrainingConfirmer  # noqa: E402
from zcnas.ranking.prefilter import Pick, Prefilter, PrefilterResult, prefilter  # noqa: E402
from zcnas.ranking.search import (  # noqa: E402
    AggregateSelector,
    ProxyScorer,
    Scorer,
    SearchPipeline,
    SearchResult,
    Selector,
    StoredScorer,
    SurrogateSelector,
    search,
)

__all__ += ["AggregateSelector", "BenchmarkConfirmer", "Confirmation", "Confirmer", "Pick", "Prefilter",
            "PrefilterResult", "ProxyScorer", "Scorer", "SearchPipeline", "SearchResult", "Selector",
            "StoredScorer", "SurrogateSelector", "TrainingConfirmer", "prefilter", "search"]
