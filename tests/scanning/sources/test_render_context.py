"""The rig's renderer keeps drawing after another part of the process makes its own GL context
(the AR mirror's shoe renderer does): each render makes its own context current first."""
from __future__ import annotations

import numpy as np

from scanning.sources.frame import Intrinsics
from scanning.sources.render import MeshRenderer, SceneMesh


def test_a_second_gl_context_does_not_blank_the_rig_renderer():
    import moderngl

    renderer = MeshRenderer()
    triangle = SceneMesh(np.array([[-1.0, -1.0, 2.0], [1.0, -1.0, 2.0], [0.0, 1.0, 2.0]]), np.array([[0, 1, 2]]),
                         np.full((3, 3), 0.5))
    camera = Intrinsics(100, 100, 49.5, 49.5, 100, 100)
    before = renderer.render([triangle], camera, np.eye(4))
    other = moderngl.create_context(standalone=True, backend="egl")  # now the current context
    try:
        after = renderer.render([triangle], camera, np.eye(4))
    finally:
        other.release()
    assert (before.depth > 0).sum() > 1000
    np.testing.assert_array_equal(after.depth, before.depth)
