"""Fixtures: the example stack and its variants, loaded with test secrets."""

import pytest
from render_helpers import make_stack, prod_data, variants


@pytest.fixture
def data() -> dict:
    return prod_data()


@pytest.fixture
def prod():
    return make_stack(prod_data())


@pytest.fixture(params=sorted(variants()))
def variant(request):
    return make_stack(variants()[request.param])
