"""Offscreen rendering of triangle meshes through pinhole cameras (moderngl on EGL).

The synthetic rig and the calibration tests use this to see a scene the way a depth
camera does: per pixel the camera-frame depth z (metres), the surface normal in the
camera frame, and a shaded colour. Projection follows the OpenCV convention
(x right, y down, z forward; pixel centres at integer coordinates), so the images
line up exactly with :class:`~scanning.sources.frame.Intrinsics`.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np

from scanning.errors import FrameError
from scanning.sources.frame import Intrinsics

_LOGGER = logging.getLogger(__name__)

_VERTEX_SHADER = """
#version 330
uniform mat4 world_to_camera;
uniform vec4 intrinsics;   // fx fy cx cy
uniform vec2 image_size;   // width height
uniform vec2 near_far;
in vec3 in_position;
in vec3 in_colour;
in vec2 in_uv;
out vec3 v_camera;
out vec3 v_colour;
out vec2 v_uv;
void main() {
    vec4 p = world_to_camera * vec4(in_position, 1.0);
    v_camera = p.xyz;
    v_colour = in_colour;
    v_uv = in_uv;
    float z = p.z;
    float u = intrinsics.x * p.x + intrinsics.z * z;
    float v = intrinsics.y * p.y + intrinsics.w * z;
    float n = near_far.x;
    float f = near_far.y;
    gl_Position = vec4(2.0 * (u + 0.5 * z) / image_size.x - z,
                       z - 2.0 * (v + 0.5 * z) / image_size.y,
                       z * (f + n) / (f - n) - 2.0 * f * n / (f - n),
                       z);
}
"""

_FRAGMENT_SHADER = """
#version 330
uniform sampler2D albedo;
uniform float shading;
in vec3 v_camera;
in vec3 v_colour;
in vec2 v_uv;
layout(location = 0) out vec4 out_geometry;
layout(location = 1) out vec4 out_colour;
void main() {
    vec3 normal = normalize(cross(dFdx(v_camera), dFdy(v_camera)));
    if (dot(normal, v_camera) > 0.0) normal = -normal;
    float lambert = abs(dot(normal, normalize(-v_camera)));
    vec3 colour = v_colour * texture(albedo, v_uv).rgb;
    out_geometry = vec4(v_camera.z, normal);
    out_colour = vec4(mix(colour, colour * (0.35 + 0.65 * lambert), shading), 1.0);
}
"""


@dataclass(frozen=True, eq=False)
class SceneMesh:
    """One object in a rendered scene.

    vertices : (n, 3) float, metres, platform frame.
    faces : (m, 3) int vertex indices.
    colours : (n, 3) float in [0, 1], per-vertex albedo.
    uv : (n, 2) float texture coordinates, or None.
    texture : (h, w, 3) uint8 image multiplied onto the albedo, or None.
    shaded : Lambert shading from a light at the camera (off for printed targets).
    """

    vertices: np.ndarray
    faces: np.ndarray
    colours: np.ndarray
    uv: np.ndarray | None = None
    texture: np.ndarray | None = None
    shaded: bool = True


@dataclass(frozen=True, eq=False)
class RenderedView:
    """depth : (H, W) float32 metres, 0 = background; normals : (H, W, 3) camera frame;
    colour : (H, W, 3) uint8 RGB."""

    depth: np.ndarray
    normals: np.ndarray
    colour: np.ndarray


class MeshRenderer:
    """One EGL context, reused for every render in the process (contexts are slow to make)."""

    def __init__(self) -> None:
        import moderngl

        try:
            self._ctx = moderngl.create_context(standalone=True, backend="egl")
        except Exception as exc:  # moderngl raises plain Exception when EGL is missing
            raise FrameError(f"cannot create an EGL rendering context: {exc}", field="renderer") from exc
        self._moderngl = moderngl
        self._program = self._ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._white = self._ctx.texture((1, 1), 3, data=bytes([255, 255, 255]))

    def render(
        self,
        scene: list[SceneMesh],
        intrinsics: Intrinsics,
        camera_to_world: np.ndarray,
        *,
        near_far: tuple[float, float] = (0.05, 10.0),
        supersample: int = 1,
    ) -> RenderedView:
        """Render ``scene`` through one camera. ``camera_to_world`` : (4, 4) pose.

        ``supersample`` > 1 renders colour at that factor and averages it down (sharp
        edges without aliasing, for corner detection); depth and normals come from
        the centre-aligned full-resolution render.
        """
        with self._ctx:  # current for these draws: another renderer's context (the AR mirror's) may be current
            view = self._render_once(scene, intrinsics, camera_to_world, near_far)
            fine = self._render_once(scene, intrinsics.scaled(supersample), camera_to_world, near_far) if supersample > 1 else None
        if fine is not None:
            h, w = intrinsics.height, intrinsics.width
            blocks = fine.colour.astype(np.float32).reshape(h, supersample, w, supersample, 3)
            colour = np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)
            view = RenderedView(view.depth, view.normals, colour)
        return view

    def _render_once(
        self, scene: list[SceneMesh], intrinsics: Intrinsics, camera_to_world: np.ndarray, near_far: tuple[float, float]
    ) -> RenderedView:
        ctx, mgl = self._ctx, self._moderngl
        size = (intrinsics.width, intrinsics.height)
        geometry = ctx.texture(size, 4, dtype="f4")
        colour = ctx.texture(size, 4)
        depth_buffer = ctx.depth_renderbuffer(size)
        fbo = ctx.framebuffer(color_attachments=[geometry, colour], depth_attachment=depth_buffer)
        try:
            fbo.use()
            fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0)
            ctx.enable(mgl.DEPTH_TEST)
            world_to_camera = np.linalg.inv(np.asarray(camera_to_world, dtype=np.float64))
            self._program["world_to_camera"].write(world_to_camera.T.astype("f4").tobytes())
            self._program["intrinsics"].value = (intrinsics.fx, intrinsics.fy, intrinsics.cx, intrinsics.cy)
            self._program["image_size"].value = size
            self._program["near_far"].value = near_far
            for item in scene:
                self._draw(item)
            geo = np.frombuffer(fbo.read(components=4, attachment=0, dtype="f4"), dtype=np.float32)
            rgb = np.frombuffer(fbo.read(components=3, attachment=1), dtype=np.uint8)
        finally:
            for resource in (fbo, geometry, colour, depth_buffer):
                resource.release()
        geo = geo.reshape(size[1], size[0], 4)[::-1]
        rgb = rgb.reshape(size[1], size[0], 3)[::-1]
        return RenderedView(np.ascontiguousarray(geo[..., 0]), np.ascontiguousarray(geo[..., 1:]), np.ascontiguousarray(rgb))

    def _draw(self, item: SceneMesh) -> None:
        ctx = self._ctx
        n = len(item.vertices)
        uv = item.uv if item.uv is not None else np.zeros((n, 2))
        interleaved = np.hstack([item.vertices, item.colours, uv]).astype("f4")
        vbo = ctx.buffer(interleaved.tobytes())
        ibo = ctx.buffer(np.asarray(item.faces, dtype="i4").tobytes())
        vao = ctx.vertex_array(self._program, [(vbo, "3f 3f 2f", "in_position", "in_colour", "in_uv")], index_buffer=ibo)
        texture = self._white
        if item.texture is not None:
            image = np.ascontiguousarray(item.texture[::-1])  # GL textures start at the bottom row
            texture = ctx.texture((image.shape[1], image.shape[0]), 3, data=image.tobytes())
            texture.filter = (self._moderngl.LINEAR_MIPMAP_LINEAR, self._moderngl.LINEAR)
            texture.build_mipmaps()
        try:
            texture.use(location=0)
            self._program["albedo"].value = 0
            self._program["shading"].value = 1.0 if item.shaded else 0.0
            vao.render(self._moderngl.TRIANGLES)
        finally:
            for resource in (vao, vbo, ibo):
                resource.release()
            if texture is not self._white:
                texture.release()


@functools.lru_cache(maxsize=1)
def shared_renderer() -> MeshRenderer:
    """The process-wide renderer (one EGL context)."""
    return MeshRenderer()
