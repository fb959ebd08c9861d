"""Zero-cost proxies: a registry with metadata, and one call that scores any ``nn.Module``.

>>> from zcnas.proxies import score_model, list_proxies, get_proxy
>>> get_proxy("jacov").name, get_proxy("synflow").higher_is_better
('jacob_cov', True)
"""

from zcnas.proxies import (
    core,  # noqa: E402,F401  (registers the built-in proxies)
    family,  # noqa: E402,F401  (registers the wider proxy family)
    structural,  # noqa: E402,F401  (registers the graph:<feature> family)
)
from zcnas.proxies.base import (
    PROXIES,
    PROXY_SETS,
    ProxyBatch,
    ProxyContext,
    ProxyResult,
    ProxySpec,
    get_proxy,
    list_proxies,
    proxy,
    resolve_proxies,
    run_arch_proxy,
    run_proxy,
    score_model,
)
from zcnas.proxies.structural import check_structural, graph_proxy_names

__all__ = ["PROXIES", "PROXY_SETS", "ProxyBatch", "ProxyContext", "ProxyResult", "ProxySpec", "get_proxy",
           "list_proxies", "proxy", "resolve_proxies", "run_arch_proxy", "run_proxy", "score_model",
           "check_structural", "graph_proxy_names"]
