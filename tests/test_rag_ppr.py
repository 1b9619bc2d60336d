import numpy as np
import pytest

from graphmem.rag.ppr import personalized_pagerank, transition_matrix


def test_ppr_on_a_path_matches_hand_computed_fixed_point():
    # Path 0 - 1 - 2, seed on 0, damping 0.5. Fixed point of r = 0.5 * W^T r + 0.5 * e0 with
    # W = [[0,1,0],[.5,0,.5],[0,1,0]]: r1 = .5(r0 + r2), r0 = .25 r1 + .5, r2 = .25 r1
    # -> r1 = .5(.5 r1 + .5) -> r1 = 1/3, r0 = 7/12, r2 = 1/12.
    t = transition_matrix(3, [0, 1], [1, 2], [1.0, 1.0])
    r = personalized_pagerank(t, np.array([1.0, 0, 0]), damping=0.5, tol=1e-12)
    assert r == pytest.approx([7 / 12, 1 / 3, 1 / 12], abs=1e-9)


def test_ppr_isolated_nodes_and_mass_conservation():
    t = transition_matrix(4, [0], [1], [2.0])  # nodes 2 and 3 have no edges
    r = personalized_pagerank(t, np.array([0, 0, 1.0, 1.0]), damping=0.85)
    assert r.sum() == pytest.approx(1.0)
    assert r[0] == 0 and r[1] == 0 and r[2] == pytest.approx(0.5)


def test_ppr_rejects_bad_parameters():
    t = transition_matrix(2, [0], [1], [1.0])
    with pytest.raises(ValueError, match="damping"):
        personalized_pagerank(t, np.array([1.0, 0]), damping=1.0)
    with pytest.raises(ValueError, match="seed"):
        personalized_pagerank(t, np.zeros(2))
