"""Property-based tests (hypothesis) of every space's strings: any seeded sample round-trips through
format/parse/validate/JSON, every neighbour is valid, and arbitrary text either parses to a valid
architecture or raises a one-line InputError (never another exception, never a long echo)."""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from zcnas.errors import InputError  # noqa: E402
from zcnas.spaces import SPACES, get_space  # noqa: E402

NAMES = [n for n in SPACES.names() if not n.endswith("_test")]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(seed=st.integers(min_value=0, max_value=2**31 - 1))
def test_sampled_architectures_round_trip(name, seed):
    space = get_space(name)
    a = space.sample(1, seed)[0]
    assert space.parse(space.format(a)) == a
    assert space.validate(a) == a
    assert space.parse_json(space.to_json(a)) == a
    for n in space.neighbours(a)[:5]:
        assert space.validate(n) == n and space.parse(space.format(n)) == n


@pytest.mark.parametrize("name", NAMES)
@FAST
@given(text=st.text(max_size=300) | st.from_regex(r"[|~+()\[\],'0-9a-z_ ]{0,200}", fullmatch=True))
def test_arbitrary_text_parses_or_fails_in_one_line(name, text):
    space = get_space(name)
    try:
        a = space.parse(text)
    except InputError as exc:
        msg = str(exc)
        assert "\n" not in msg and len(msg) <= 500
    else:
        assert space.parse(space.format(a)) == a
