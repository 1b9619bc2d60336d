import pytest

from graphmem.embedders.sentence_transformer import default_embedder
from graphmem.normalize import EntityResolver, ResolverConfig, canonical_entity, canonical_relation, singular


def test_canonical_forms():
    assert canonical_entity("the Red Apple") == "red apple"
    assert canonical_entity("  A red   apple. ") == "red apple"
    assert canonical_entity("Key 1") == "key 1"
    assert canonical_entity("frosted-glass door") == "frosted-glass door"
    assert canonical_relation(" Is  Located In ") == "is located in"
    assert singular("red apples") == "red apple" and singular("berries") == "berry"
    assert singular("glass") == "glass"


def test_resolution_exact_plural_fuzzy_and_numbers():
    r = EntityResolver(ResolverConfig(use_embeddings=False))
    for name in ["red apple", "key 1", "white locker"]:
        r.add(name)
    assert r.resolve("The red apples") == "red apple"
    assert r.resolve("red aple") == "red apple"       # fuzzy
    assert r.resolve("Key 2") == "key 2"              # numbers never merge
    assert r.resolve("blue locker") == "blue locker"  # a different thing


@pytest.mark.slow
def test_resolution_by_embedding_neighbour():
    emb = default_embedder()
    r = EntityResolver(ResolverConfig(use_fuzzy=False, embedding_threshold=0.8), encode=emb.encode)
    r.add("refrigerator")
    r.add("wooden table")
    assert r.resolve("fridge") == "refrigerator"
    assert r.resolve("car") == "car"
