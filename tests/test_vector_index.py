"""VectorIndex: exact search below the ANN threshold, ANN candidates re-ranked exactly above it."""
import numpy as np
import pytest

from graphmem.vectors.vector_index import VectorIndex


def clustered(n, dim=32, clusters=40, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((clusters, dim))
    x = centers[rng.integers(0, clusters, n)] + 0.5 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def same(got, want):
    """The same ids in the same order, scores equal but for float rounding (scans and re-ranks
    multiply in different orders)."""
    return [i for i, _ in got] == [i for i, _ in want] and \
        np.allclose([x for _, x in got], [x for _, x in want], rtol=0, atol=1e-6)


def brute(vecs, ids, active, q, k):
    sims = vecs @ q
    order = sorted((i for i in range(len(ids)) if active[i]), key=lambda i: (-float(sims[i]), ids[i]))
    return [(ids[i], float(sims[i])) for i in order[:k]]


def test_exact_below_the_threshold_equals_brute_force():
    vecs = clustered(500)
    vecs[7] = vecs[3]  # a tie: broken by id
    ids = [f"t{i:04d}" for i in range(500)]
    index = VectorIndex(32)
    index.add(ids[:200], vecs[:200])
    index.add(ids[200:], vecs[200:])
    index.deactivate(ids[::9])
    active = [i % 9 != 0 for i in range(500)]
    for q in clustered(20, seed=5):
        assert same(index.search(q, 10), brute(vecs, ids, active, q, 10))
    assert index.search(vecs[3], 2)[0][0] in {ids[3], ids[7]}
    assert [i for i, _ in index.search(vecs[3], 2)] == sorted([ids[3], ids[7]])


def test_ann_recall_and_exact_scores_above_the_threshold():
    vecs = clustered(4000)
    ids = [f"t{i:04d}" for i in range(4000)]
    index = VectorIndex(32, ann_threshold=1000)
    index.add(ids, vecs)
    index.deactivate(ids[::10])
    active = [i % 10 != 0 for i in range(4000)]
    hits = []
    for q in clustered(50, seed=9):
        got = index.search(q, 10)
        want = brute(vecs, ids, active, q, 10)
        hits.append(len({i for i, _ in got} & {i for i, _ in want}) / 10)
        for key, score in got:  # scores are exact, retired rows never come back
            assert score == pytest.approx(float(vecs[int(key[1:])] @ q), abs=1e-5)
            assert active[int(key[1:])]
    assert np.mean(hits) >= 0.95


def test_rows_added_or_changed_after_the_ann_was_built_are_found():
    vecs = clustered(3000)
    ids = [f"t{i:04d}" for i in range(3000)]
    index = VectorIndex(32, ann_threshold=1000)
    index.add(ids[:2000], vecs[:2000])
    index.search(vecs[0], 5)  # builds the ANN over 2000 rows
    index.add(ids[2000:2010], vecs[2000:2010])  # too few to extend it: scanned exactly
    assert index.search(vecs[2005], 1)[0][0] == ids[2005]
    index.add([ids[5]], vecs[2999][None, :])  # a changed vector
    assert index.search(vecs[2999], 1)[0][0] == ids[5]
    index.add(ids[2010:], vecs[2010:])  # many: the ANN is extended
    assert index.search(vecs[2500], 1)[0][0] == ids[2500]


def test_ann_is_deterministic():
    vecs = clustered(3000)
    ids = [f"t{i:04d}" for i in range(3000)]
    results = []
    for _ in range(2):
        index = VectorIndex(32, ann_threshold=1000, seed=3)
        index.add(ids, vecs)
        results.append([index.search(q, 10) for q in clustered(10, seed=4)])
    assert results[0] == results[1]


def test_a_read_only_matrix_is_adopted_then_copied_on_write():
    vecs = clustered(600)
    vecs.flags.writeable = False
    index = VectorIndex(32)
    index.add([f"t{i}" for i in range(600)], vecs)
    assert np.shares_memory(index.matrix, vecs)
    index.add(["new"], vecs[:1] * 0 + 1 / np.sqrt(32))
    index.add(["t1"], vecs[2:3])
    assert not np.shares_memory(index.matrix, vecs) and len(index) == 601
    assert np.array_equal(index.vector("t1"), vecs[2]) and np.array_equal(index.vector("t3"), vecs[3])
    mine = clustered(300)
    copy = VectorIndex(32)
    copy.add([f"t{i}" for i in range(300)], mine)  # a caller's writable array is never shared
    assert not np.shares_memory(copy.matrix, mine)


def test_retired_rows_made_current_again_are_searched_again():
    vecs = clustered(50)
    ids = [f"t{i:02d}" for i in range(50)]
    index = VectorIndex(32)
    index.add(ids, vecs)
    index.deactivate(ids[:5] + ids[:5])  # twice: still five rows out
    assert index.n_active == 45 and all(i not in ids[:5] for i, _ in index.search(vecs[0], 50))
    index.add(ids[:5], vecs[:5])  # current again (e.g. a fact stated again)
    assert index.n_active == 50 and index.search(vecs[0], 1)[0][0] == "t00"
    assert same(index.search(vecs[0], 50), brute(vecs, ids, [True] * 50, vecs[0], 50))


def test_an_ann_read_in_place_copies_itself_before_growing():
    from graphmem.vectors.ann import ANNIndex

    vecs = clustered(600)
    saved = np.array(ANNIndex.build(vecs[:500]).to_bytes())
    before = saved.copy()
    ann = ANNIndex.from_bytes(saved)  # points into ``saved``
    assert ann.ntotal == 500 and ann.search(vecs[42], 1)[0] == 42
    ann.add(vecs[500:])
    assert ann.ntotal == 600 and ann.search(vecs[550], 1)[0] == 550
    assert np.array_equal(saved, before)  # the bytes it was read from are untouched


def test_rows_of_ids_with_unknown_ones_marked():
    index = VectorIndex(32)
    index.add(["a", "b", "c"], clustered(3))
    assert index.rows(["c", "x", "a"]).tolist() == [2, -1, 0]
    assert index.rows([]).tolist() == []


def test_ann_candidates_skip_retired_rows_by_count():
    vecs = clustered(3000)
    ids = [f"t{i:04d}" for i in range(3000)]
    index = VectorIndex(32, ann_threshold=1000)
    index.add(ids, vecs)
    index.deactivate(ids[:2900])  # almost everything retired: the ANN is asked for many more guesses
    active = [i >= 2900 for i in range(3000)]
    hits = [index.search(q, 5) for q in clustered(10, seed=3)]
    assert all(same(h, brute(vecs, ids, active, q, 5)) for h, q in zip(hits, clustered(10, seed=3)))


def test_scans_between_writes_see_every_write():
    """Full scans read a transposed copy of the rows: it follows adds, overwrites and growth."""
    vecs = clustered(700, seed=1)
    ids = [f"t{i:04d}" for i in range(700)]
    index = VectorIndex(32)
    current = {}
    queries = clustered(5, seed=9)
    for start in range(0, 600, 50):  # grows past the copy's first 256 columns
        index.add(ids[start:start + 50], vecs[start:start + 50])
        current.update(zip(ids[start:start + 50], vecs[start:start + 50]))
        index.add([ids[start // 2]], vecs[600 + start // 50][None, :])  # a known id gets a new vector
        current[ids[start // 2]] = vecs[600 + start // 50]
        known = sorted(current)
        mat = np.stack([current[k] for k in known])
        for q in queries:
            assert same(index.search(q, 7), brute(mat, known, [True] * len(known), q, 7))


def test_views_are_the_index_rows_and_survive_growth():
    index = VectorIndex(32)
    vecs = clustered(300)
    ids = [f"t{i}" for i in range(300)]
    index.add(ids, vecs)
    views = index.views(ids[10:20])  # contiguous rows: one slice
    scattered = index.views(["t5", "t299", "t0"])
    assert all(np.shares_memory(v, index.matrix) for v in views + scattered)
    assert np.array_equal(np.stack(views), vecs[10:20]) and np.array_equal(scattered[1], vecs[299])
    index.add([f"n{i}" for i in range(5000)], clustered(5000, seed=2))  # grows past its capacity
    assert np.array_equal(np.stack(views), vecs[10:20])  # the old matrix lives on for the views
    with pytest.raises(KeyError, match="nope"):
        index.views(["t1", "nope"])


def test_a_big_matrix_grows_in_reserved_room_without_moving():
    from graphmem.vectors.reserved import SMALL_BYTES, zeros_with_room

    rows = SMALL_BYTES // (384 * 4) + 1
    room = zeros_with_room(rows, 384)
    assert room.shape[0] >= rows and room.flags.writeable and not room[-1].any()
    index = VectorIndex(384)
    first = clustered(rows, dim=384)
    index.add([f"t{i}" for i in range(rows)], first)
    view = index.views(["t0"])[0]
    index.add([f"n{i}" for i in range(1000)], clustered(1000, dim=384, seed=2))
    assert np.shares_memory(view, index.matrix)  # no copy: the row did not move
    assert np.array_equal(index.vector("t7"), first[7])


def test_a_refused_reservation_falls_back_to_a_plain_matrix(monkeypatch):
    import mmap

    from graphmem.vectors import reserved

    def refuse(*args, **kwargs):
        raise OSError(12, "Cannot allocate memory")  # strict overcommit, or a low address-space limit

    monkeypatch.setattr(mmap, "mmap", refuse)
    rows = reserved.SMALL_BYTES // (384 * 4) + 1
    room = reserved.zeros_with_room(rows, 384)
    assert room.shape == (rows, 384) and room.flags.owndata and not room.any()
