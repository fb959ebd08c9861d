"""Ranking: candidate sets, scoring into a store, ranking by proxies or aggregates."""

from zcnas.ranking.candidates import candidates, read_arch_file
from zcnas.ranking.rank import RankResult, order_by, rank
from zcnas.ranking.scoring import ScoringConfig, build_seeded, score_architectures, wide_scores

__all__ = ["RankResult", "ScoringConfig", "build_seeded", "candidates", "order_by", "rank",
           "read_arch_file", "score_architectures", "wide_scores"]
