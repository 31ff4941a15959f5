"""Offscreen rendering of shoe models with moderngl on EGL (Mesa llvmpipe without a GPU).

The renderer draws in the OpenCV camera frame through
:func:`tryon.ar.camera.gl_projection`, shades physically (glTF metallic-roughness
with base-colour, normal, and occlusion-roughness-metal maps) under a light
estimated from the camera frame (:mod:`tryon.ar.lighting`), and draws leg occluders depth-only first so the leg hides the shoe's
collar and whatever lies behind the shin. Only the image rectangle around the
shoes is rasterised and read back, which keeps llvmpipe fast.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from scanning.sources.frame import Intrinsics
from tryon.ar.camera import gl_projection
from tryon.ar.errors import RenderError
from tryon.ar.lighting import SceneLight
from tryon.ar.mesh import MeshPart, ShoeModel

_LOGGER = logging.getLogger(__name__)

_VERTEX_SHADER = """
#version 330
uniform mat4 u_clip;
uniform mat4 u_model;
in vec3 in_position;
in vec3 in_normal;
in vec2 in_uv;
in vec4 in_color;
out vec3 v_position;
out vec3 v_normal;
out vec2 v_uv;
out vec4 v_color;
void main() {
    vec4 world = u_model * vec4(in_position, 1.0);
    v_position = world.xyz;
    v_normal = mat3(u_model) * in_normal;
    v_uv = in_uv;
    v_color = in_color;
    gl_Position = u_clip * world;
}
"""

# Physically based shading (glTF metallic-roughness: GGX distribution, Smith geometry,
# Schlick Fresnel) under a :class:`~tryon.ar.lighting.SceneLight` estimated from the
# frame: a key light and a sky/ground hemisphere, in the camera frame (x right, y down,
# z forward). Normal maps use a cotangent frame from screen derivatives, so the meshes
# need no tangents (and the mirrored left shoe stays right).
_FRAGMENT_SHADER = """
#version 330
uniform sampler2D u_texture;
uniform sampler2D u_normal_map;
uniform sampler2D u_orm;
uniform bool u_textured;
uniform bool u_has_normal_map;
uniform bool u_has_orm;
uniform bool u_occlusion;
uniform float u_metallic;
uniform float u_roughness;
uniform vec3 u_key_dir;
uniform vec3 u_key_color;
uniform vec3 u_sky;
uniform vec3 u_ground;
in vec3 v_position;
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;
out vec4 f_color;
const float PI = 3.14159265;
vec3 to_linear(vec3 c) { return pow(c, vec3(2.2)); }
void main() {
    vec4 albedo = v_color;
    if (u_textured) {
        albedo *= texture(u_texture, v_uv);
    }
    vec3 base = to_linear(albedo.rgb);
    vec3 view = normalize(-v_position);
    vec3 n = normalize(v_normal);
    if (dot(n, view) < 0.0) n = -n;
    if (u_has_normal_map) {
        vec3 dp1 = dFdx(v_position);
        vec3 dp2 = dFdy(v_position);
        vec2 duv1 = dFdx(v_uv);
        vec2 duv2 = dFdy(v_uv);
        vec3 dp2perp = cross(dp2, n);
        vec3 dp1perp = cross(n, dp1);
        vec3 t = dp2perp * duv1.x + dp1perp * duv2.x;
        vec3 b = dp2perp * duv1.y + dp1perp * duv2.y;
        float scale = inversesqrt(max(max(dot(t, t), dot(b, b)), 1e-20));
        vec3 mapped = texture(u_normal_map, v_uv).xyz * 2.0 - 1.0;
        vec3 bent = normalize(mat3(t * scale, b * scale, n) * mapped);
        if (dot(bent, view) > 0.0) n = bent;
    }
    float roughness = u_roughness;
    float metal = u_metallic;
    float occlusion = 1.0;
    if (u_has_orm) {
        vec3 orm = texture(u_orm, v_uv).rgb;
        roughness *= orm.g;
        metal *= orm.b;
        if (u_occlusion) occlusion = orm.r;
    }
    roughness = clamp(roughness, 0.05, 1.0);
    vec3 f0 = mix(vec3(0.04), base, metal);
    vec3 l = normalize(u_key_dir);
    vec3 h = normalize(l + view);
    float ndl = max(dot(n, l), 0.0);
    float ndv = max(dot(n, view), 1e-3);
    float ndh = max(dot(n, h), 0.0);
    float a2 = pow(roughness, 4.0);
    float d = ndh * ndh * (a2 - 1.0) + 1.0;
    float distribution = a2 / (PI * d * d);
    float k = (roughness + 1.0) * (roughness + 1.0) / 8.0;
    float geometry = ndl / (ndl * (1.0 - k) + k) * ndv / (ndv * (1.0 - k) + k);
    vec3 fresnel = f0 + (1.0 - f0) * pow(1.0 - max(dot(view, h), 0.0), 5.0);
    vec3 specular = distribution * geometry * fresnel / max(4.0 * ndl * ndv, 1e-3);
    vec3 diffuse = (1.0 - fresnel) * (1.0 - metal) * base / PI;
    vec3 direct = (diffuse + specular) * u_key_color * ndl;
    vec3 env = mix(u_ground, u_sky, 0.5 - 0.5 * n.y);
    vec3 fresnel_env = f0 + (max(vec3(1.0 - roughness), f0) - f0) * pow(1.0 - ndv, 5.0);
    vec3 ambient = (1.0 - fresnel_env) * (1.0 - metal) * base * env + fresnel_env * env * (1.0 - 0.6 * roughness);
    vec3 colour = (direct + ambient) * occlusion;
    f_color = vec4(pow(clamp(colour, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}
"""

_OCCLUDER_FRAGMENT = """
#version 330
out vec4 f_color;
void main() { f_color = vec4(0.0); }
"""


@dataclass(frozen=True)
class _GpuPart:
    """One uploaded mesh part: its vertex array, its textures (None when absent) and the part."""

    vao: object
    texture: object | None
    normal_map: object | None
    orm: object | None
    part: MeshPart


@dataclass(frozen=True)
class ShoeInstance:
    """One shoe to draw: ``pose`` (4, 4) model frame -> camera frame (metres)."""

    model: ShoeModel
    pose: np.ndarray


@dataclass(frozen=True)
class Occluder:
    """A capped cylinder (the shin) in the camera frame: two end points (3,) and a radius, metres."""

    start: np.ndarray
    end: np.ndarray
    radius: float


@dataclass(frozen=True)
class RenderedLayer:
    """A rendered RGBA patch : (h, w, 4) uint8 (straight alpha) placed at image (x0, y0)."""

    rgba: np.ndarray
    x0: int
    y0: int


def _cylinder(segments: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Unit cylinder along +Z (z in [0, 1], radius 1) with caps: (n, 3) float32, (m, 3) uint32."""
    angles = np.linspace(0.0, 2.0 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    bottom = np.hstack([ring, np.zeros((segments, 1))])
    top = np.hstack([ring, np.ones((segments, 1))])
    points = np.vstack([bottom, top, [[0, 0, 0], [0, 0, 1]]]).astype(np.float32)
    faces = []
    for i in range(segments):
        j = (i + 1) % segments
        faces += [(i, j, segments + i), (j, segments + j, segments + i)]
        faces += [(2 * segments, j, i), (2 * segments + 1, segments + i, segments + j)]
    return points, np.asarray(faces, dtype=np.uint32)


def _segment_frame(occluder: Occluder) -> np.ndarray:
    """4x4 mapping the unit cylinder onto the occluder."""
    axis = np.asarray(occluder.end, float) - np.asarray(occluder.start, float)
    length = float(np.linalg.norm(axis))
    z = axis / max(length, 1e-9)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    matrix = np.eye(4)
    matrix[:3, 0], matrix[:3, 1], matrix[:3, 2] = x * occluder.radius, y * occluder.radius, z * length
    matrix[:3, 3] = occluder.start
    return matrix


def _model_corners(model: ShoeModel) -> np.ndarray:
    """(8, 4) homogeneous corners of the model-frame box of ``model``."""
    points = np.concatenate([p.positions for p in model.parts])
    lo, hi = points.min(axis=0), points.max(axis=0)
    corners = np.array([[x, y, z, 1.0] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    return corners


class ShoeRenderer:
    """moderngl renderer of :class:`ShoeInstance` lists over one camera image size.

    Create once and reuse: it keeps the GL context, the shader programs and the
    uploaded models (keyed by model identity). Not thread-safe: use it from one thread.
    """

    def __init__(self, near_m: float = 0.05, far_m: float = 20.0, raster_threads: int | None = 1) -> None:
        import moderngl

        # llvmpipe rasterises on its own thread pool; the shoe patch is small and the
        # landmark workers already hold the cores, so one raster thread has the lower p95.
        # An LP_NUM_THREADS the user set wins; the driver reads it when the first context opens.
        if raster_threads is not None:
            os.environ.setdefault("LP_NUM_THREADS", str(raster_threads))
        try:
            self.ctx = moderngl.create_context(standalone=True, backend="egl")
        except Exception as exc:  # moderngl/glcontext raise plain Exceptions when EGL is missing
            raise RenderError(f"cannot open an EGL OpenGL context for offscreen rendering: {exc}") from exc
        self.near_m, self.far_m = near_m, far_m
        self._program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_FRAGMENT_SHADER)
        self._occluder_program = self.ctx.program(vertex_shader=_VERTEX_SHADER, fragment_shader=_OCCLUDER_FRAGMENT)
        self._models: dict[int, list[_GpuPart]] = {}
        points, faces = _cylinder()
        zeros = np.zeros((len(points), 9), np.float32)
        self._cylinder_vao = self._vao(self._occluder_program, np.hstack([points, zeros]), faces)
        self._fbo = None
        self._fbo_size = (0, 0)
        _LOGGER.debug("renderer: %s", self.ctx.info.get("GL_RENDERER"))

    def close(self) -> None:
        self.ctx.release()

    def _vao(self, program, interleaved: np.ndarray, faces: np.ndarray):
        vbo = self.ctx.buffer(np.ascontiguousarray(interleaved, dtype=np.float32).tobytes())
        ibo = self.ctx.buffer(np.ascontiguousarray(faces, dtype=np.uint32).tobytes())
        names = [n for n in ("in_position", "in_normal", "in_uv", "in_color") if n in program]
        layout = {"in_position": "3f", "in_normal": "3f", "in_uv": "2f", "in_color": "4f"}
        fmt = " ".join(layout[n] if n in names else f"{layout[n][0]}x4" for n in layout)
        return self.ctx.vertex_array(program, [(vbo, fmt, *names)], index_buffer=ibo, index_element_size=4)

    def _texture(self, image: np.ndarray | None):
        if image is None:
            return None
        image = np.ascontiguousarray(np.flipud(image))
        texture = self.ctx.texture((image.shape[1], image.shape[0]), image.shape[2], image.tobytes())
        texture.build_mipmaps()
        return texture

    def _upload_part(self, part: MeshPart) -> _GpuPart:
        uvs = part.uvs if part.uvs is not None else np.zeros((len(part.positions), 2), np.float32)
        interleaved = np.hstack([part.positions, part.normals, uvs, part.colors])
        return _GpuPart(self._vao(self._program, interleaved, part.indices), self._texture(part.texture),
                        self._texture(part.normal_map), self._texture(part.orm), part)

    def preload(self, model: ShoeModel) -> None:
        """Upload ``model`` (its buffers, textures and mipmaps) now rather than on its first frame."""
        with self.ctx:
            self._uploaded(model)

    def _uploaded(self, model: ShoeModel) -> list[_GpuPart]:
        key = id(model)
        if key not in self._models:
            self._models[key] = [self._upload_part(p) for p in model.parts]
        return self._models[key]

    def _framebuffer(self, width: int, height: int):
        if self._fbo_size != (width, height):
            if self._fbo is not None:
                self._fbo.release()
            self._fbo = self.ctx.simple_framebuffer((width, height), components=4)
            self._fbo_size = (width, height)
        return self._fbo

    def screen_box(self, instances: list[ShoeInstance], camera: Intrinsics, pad: int = 4) -> tuple[int, int, int, int] | None:
        """(x0, y0, w, h) image rectangle holding every shoe, or None when none is in front of the camera."""
        corners = np.concatenate([(inst.pose @ _model_corners(inst.model).T).T[:, :3] for inst in instances])
        if (corners[:, 2] <= self.near_m).any():
            return None
        pixels = camera.project(corners)
        x0 = max(int(np.floor(pixels[:, 0].min())) - pad, 0)
        y0 = max(int(np.floor(pixels[:, 1].min())) - pad, 0)
        x1 = min(int(np.ceil(pixels[:, 0].max())) + pad + 1, camera.width)
        y1 = min(int(np.ceil(pixels[:, 1].max())) + pad + 1, camera.height)
        return (x0, y0, x1 - x0, y1 - y0) if x1 > x0 and y1 > y0 else None

    def render(self, instances: list[ShoeInstance], camera: Intrinsics, occluders: list[Occluder] = (),
               scene_depth: np.ndarray | None = None, depth_margin_m: float = 0.03,
               light: SceneLight | None = None) -> RenderedLayer | None:
        """Draw ``instances`` (and hide what ``occluders`` cover); None when nothing is on screen.

        ``scene_depth`` : (H, W) float metres from a depth camera registered to this
        camera (0 = no reading) hides every shoe pixel that lies more than
        ``depth_margin_m`` behind the real surface there. ``light``: the frame's
        light (a neutral studio light when None).
        """
        if not instances:
            return None
        box = self.screen_box(instances, camera)
        if box is None:
            return None
        # Make this renderer's context current: another one (the scanner's) may be current here.
        with self.ctx:
            return self._render(instances, camera, occluders, scene_depth, depth_margin_m, light or SceneLight(), box)

    def _render(self, instances: list[ShoeInstance], camera: Intrinsics, occluders, scene_depth, depth_margin_m: float,
                light: SceneLight, box: tuple[int, int, int, int]) -> RenderedLayer:
        x0, y0, width, height = box
        fbo = self._framebuffer(camera.width, camera.height)
        fbo.use()
        self.ctx.viewport = (0, 0, width, height)
        fbo.clear(0.0, 0.0, 0.0, 0.0, depth=1.0, viewport=(0, 0, width, height))
        self.ctx.enable(self.ctx.DEPTH_TEST)
        clip = gl_projection(camera, self.near_m, self.far_m, viewport=box).astype("f4")
        self._draw_occluders(fbo, clip, occluders)
        program = self._program
        program["u_clip"].write(clip.T.tobytes())
        for name, value in (("u_key_dir", light.key_direction), ("u_key_color", light.key_colour),
                            ("u_sky", light.sky), ("u_ground", light.ground)):
            program[name].value = tuple(float(v) for v in value)
        program["u_texture"].value, program["u_normal_map"].value, program["u_orm"].value = 0, 1, 2
        for instance in instances:
            program["u_model"].write(np.asarray(instance.pose, "f4").T.tobytes())
            for gpu in self._uploaded(instance.model):
                program["u_textured"].value = gpu.texture is not None
                program["u_has_normal_map"].value = gpu.normal_map is not None
                program["u_has_orm"].value = gpu.orm is not None
                program["u_occlusion"].value = gpu.part.occlusion_in_orm
                program["u_metallic"].value = gpu.part.metallic
                program["u_roughness"].value = gpu.part.roughness
                for unit, texture in enumerate((gpu.texture, gpu.normal_map, gpu.orm)):
                    if texture is not None:
                        texture.use(unit)
                gpu.vao.render()
        data = fbo.read(viewport=(0, 0, width, height), components=4)
        rgba = np.flipud(np.frombuffer(data, np.uint8).reshape(height, width, 4))
        if scene_depth is not None:
            rgba = self._hide_behind(rgba, fbo, box, camera, scene_depth, depth_margin_m)
        return RenderedLayer(rgba, x0, y0)

    def _hide_behind(self, rgba: np.ndarray, fbo, box: tuple[int, int, int, int], camera: Intrinsics,
                     scene_depth: np.ndarray, margin_m: float) -> np.ndarray:
        """``rgba`` with alpha 0 where the real surface is nearer than the rendered one."""
        if scene_depth.shape != (camera.height, camera.width):
            raise RenderError(f"scene depth must be {camera.height}x{camera.width} like the frame; got {scene_depth.shape}")
        x0, y0, width, height = box
        raw = fbo.read(viewport=(0, 0, width, height), components=1, attachment=-1, dtype="f4")
        window = np.flipud(np.frombuffer(raw, np.float32).reshape(height, width)).astype(np.float64)
        near, far = self.near_m, self.far_m
        rendered = 2.0 * far * near / (far + near - (2.0 * window - 1.0) * (far - near))
        real = np.asarray(scene_depth[y0:y0 + height, x0:x0 + width], dtype=np.float64)
        hidden = (real > 0) & (real < rendered - margin_m) & (window < 1.0)
        out = rgba.copy()
        out[hidden, 3] = 0
        return out

    def _draw_occluders(self, fbo, clip: np.ndarray, occluders: list[Occluder]) -> None:
        if not occluders:
            return
        fbo.color_mask = (False, False, False, False)
        self._occluder_program["u_clip"].write(clip.T.tobytes())
        for occluder in occluders:
            self._occluder_program["u_model"].write(_segment_frame(occluder).astype("f4").T.tobytes())
            self._cylinder_vao.render()
        fbo.color_mask = (True, True, True, True)
