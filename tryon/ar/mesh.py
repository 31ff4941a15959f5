"""Shoe models for the renderer: load glTF/GLB (generated or third-party), cap the
triangle count, and flatten into GPU-ready arrays.

Model frame (the one ``assets/shoes`` writes and ``shared/data/shoes`` uses):
metres, long axis +X from heel to toe, Y up, sole at Y = 0. :func:`load_shoe_model`
moves the heel to X = 0 and centres Z, so a foot pose can place it directly.
Textures that are missing or unreadable fall back to the material's base colour.
"""
from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tryon.ar.errors import ModelLoadError

_LOGGER = logging.getLogger(__name__)

DEFAULT_MAX_TRIANGLES = 40_000


@dataclass(frozen=True)
class MeshPart:
    """One material's triangles, unindexed-ready.

    positions, normals : (n, 3) float32, metres; uvs : (n, 2) float32 or None;
    colors : (n, 4) float32 in [0, 1] (base colour times vertex colour);
    indices : (m, 3) uint32; texture : (h, w, 4) uint8 RGBA base colour or None.
    The glTF metallic-roughness maps, when the model has them and UVs: ``normal_map``
    (h, w, 3) uint8 tangent-space normals; ``orm`` (h, w, 3) uint8 occlusion (R),
    roughness (G), metalness (B); ``occlusion_in_orm`` says whether R holds occlusion.
    ``metallic`` and ``roughness`` are the material's factors.
    """

    positions: np.ndarray
    normals: np.ndarray
    uvs: np.ndarray | None
    colors: np.ndarray
    indices: np.ndarray
    texture: np.ndarray | None
    normal_map: np.ndarray | None = None
    orm: np.ndarray | None = None
    occlusion_in_orm: bool = False
    metallic: float = 0.0
    roughness: float = 0.7

    @property
    def triangles(self) -> int:
        return int(len(self.indices))


@dataclass(frozen=True)
class ShoeModel:
    """A shoe ready to draw: parts in the model frame and its extent (metres)."""

    name: str
    parts: tuple[MeshPart, ...]
    length_m: float
    width_m: float
    height_m: float

    @property
    def triangles(self) -> int:
        return sum(p.triangles for p in self.parts)


def _read_gltf(path: Path):
    from pygltflib import GLTF2

    try:
        return GLTF2().load(str(path))
    except Exception as exc:  # pygltflib raises bare exceptions on malformed files
        raise ModelLoadError(f"shoe model {path} is not a readable glTF/GLB: {exc}", path=str(path)) from exc


def _load_edited(gltf, path: Path):
    """trimesh Scene of an edited glTF read from ``path`` (a .gltf still finds its files beside it)."""
    import trimesh

    if path.suffix.lower() == ".glb":
        return trimesh.load(io.BytesIO(b"".join(gltf.save_to_bytes())), file_type="glb", force="scene")
    resolver = trimesh.resolvers.FilePathResolver(str(path.parent))
    return trimesh.load(io.BytesIO(gltf.gltf_to_json().encode("utf-8")), file_type="gltf", resolver=resolver,
                        force="scene")


def _without_images(path: Path):
    """The model at ``path`` with every texture reference removed (base colours kept)."""
    gltf = _read_gltf(path)
    for material in gltf.materials:
        if material.pbrMetallicRoughness is not None:
            material.pbrMetallicRoughness.baseColorTexture = None
            material.pbrMetallicRoughness.metallicRoughnessTexture = None
        material.normalTexture = material.occlusionTexture = material.emissiveTexture = None
    gltf.textures, gltf.images, gltf.samplers = [], [], []
    return _load_edited(gltf, path)


def model_variants(path: str | Path) -> tuple[str, ...]:
    """Names of the KHR_materials_variants of a glTF/GLB (empty when it has none)."""
    extension = (_read_gltf(Path(path)).extensions or {}).get("KHR_materials_variants", {})
    return tuple(v.get("name", str(i)) for i, v in enumerate(extension.get("variants", ())))


def _with_variant(path: Path, variant: str):
    """The model with every primitive switched to ``variant``'s material."""
    names = model_variants(path)
    if variant not in names:
        raise ModelLoadError(f"shoe model {path} has no material variant {variant!r}; variants: {list(names) or 'none'}",
                             path=str(path))
    index = names.index(variant)
    gltf = _read_gltf(path)
    for mesh in gltf.meshes:
        for primitive in mesh.primitives:
            mappings = (primitive.extensions or {}).get("KHR_materials_variants", {}).get("mappings", ())
            chosen = [m["material"] for m in mappings if index in m.get("variants", ())]
            if chosen:
                primitive.material = chosen[0]
    return _load_edited(gltf, path)


def _load_scene(path: Path, variant: str | None = None):
    """A trimesh Scene of the model; on texture trouble, the same model without textures."""
    import trimesh

    if not path.is_file():
        raise ModelLoadError(f"shoe model not found: {path}", path=str(path))
    try:
        return _with_variant(path, variant) if variant is not None else trimesh.load(str(path), force="scene")
    except ModelLoadError:
        raise
    except Exception as exc:  # trimesh raises many kinds for bad images or buffers
        _LOGGER.warning("shoe model %s did not load with its textures (%s); using base colours", path, exc)
    try:
        return _without_images(path)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"shoe model {path} could not be read: {exc}", path=str(path)) from exc


def _material_colour_and_texture(visual) -> tuple[np.ndarray, np.ndarray | None]:
    """(base colour (4,) float in [0, 1], texture (h, w, 4) uint8 or None) of a trimesh visual."""
    material = getattr(visual, "material", None)
    colour = np.ones(4)
    image = None
    if material is not None:
        factor = getattr(material, "baseColorFactor", None)
        if factor is None:
            factor = getattr(material, "diffuse", None)
        if factor is not None:
            factor = np.asarray(factor, dtype=np.float64)
            colour = factor / 255.0 if factor.max() > 1.0 else factor
        image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if image is None:
        return colour, None
    try:
        texture = np.asarray(image.convert("RGBA"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        _LOGGER.warning("texture unreadable (%s); using the base colour", exc)
        return colour, None
    return colour, texture


def _rgb(image, what: str) -> np.ndarray | None:
    if image is None:
        return None
    try:
        return np.asarray(image.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError) as exc:
        _LOGGER.warning("%s map unreadable (%s); drawing without it", what, exc)
        return None


def _pbr_maps(visual) -> dict:
    """The normal and occlusion-roughness-metal maps and factors of a glTF PBR material."""
    material = getattr(visual, "material", None)
    if material is None or not hasattr(material, "metallicRoughnessTexture"):
        return {}
    maps: dict = {"normal_map": _rgb(getattr(material, "normalTexture", None), "normal")}
    roughness_metal = _rgb(material.metallicRoughnessTexture, "metallic-roughness")
    occlusion = _rgb(getattr(material, "occlusionTexture", None), "occlusion")
    if roughness_metal is not None:
        orm = roughness_metal.copy()
        if occlusion is not None and occlusion.shape == orm.shape:
            orm[..., 0] = occlusion[..., 0]
        maps["orm"], maps["occlusion_in_orm"] = orm, occlusion is not None and occlusion.shape == orm.shape
    # glTF's defaults are metallic 1, roughness 1 (factors multiply the map).
    has_map = roughness_metal is not None
    metallic, roughness = material.metallicFactor, material.roughnessFactor
    maps["metallic"] = float(metallic if metallic is not None else (1.0 if has_map else 0.0))
    maps["roughness"] = float(roughness if roughness is not None else (1.0 if has_map else 0.7))
    return maps


def _part_from_trimesh(mesh) -> MeshPart:
    """One trimesh.Trimesh (transform applied) -> MeshPart."""
    colour, texture = _material_colour_and_texture(mesh.visual)
    count = len(mesh.vertices)
    colors = np.tile(colour.astype(np.float32), (count, 1))
    if mesh.visual.kind == "vertex":
        colors = colors * (np.asarray(mesh.visual.vertex_colors, dtype=np.float32)[:, :4] / 255.0)
    uv = getattr(mesh.visual, "uv", None)
    uvs = None if uv is None or texture is None or len(uv) != count else np.asarray(uv, dtype=np.float32)
    maps = _pbr_maps(mesh.visual)
    if uvs is None:  # the maps need UVs; the factors still apply
        maps = {k: v for k, v in maps.items() if k in ("metallic", "roughness")}
    return MeshPart(
        positions=np.asarray(mesh.vertices, dtype=np.float32),
        normals=np.asarray(mesh.vertex_normals, dtype=np.float32),
        uvs=uvs,
        colors=colors,
        indices=np.asarray(mesh.faces, dtype=np.uint32),
        texture=texture if uvs is not None else None,
        **maps,
    )


def decimate_part(part: MeshPart, target_triangles: int) -> MeshPart:
    """Quadric decimation of ``part`` down to about ``target_triangles``.

    UVs do not survive the collapse, so a textured part keeps its texture's mean
    colour (times the base colour) instead.
    """
    import fast_simplification

    if part.triangles <= target_triangles:
        return part
    reduction = 1.0 - target_triangles / part.triangles
    points, faces = fast_simplification.simplify(part.positions, part.indices.astype(np.int64), target_reduction=reduction)
    colour = part.colors.mean(axis=0)
    if part.texture is not None:
        colour = colour * (part.texture.reshape(-1, 4).mean(axis=0) / 255.0)
    normals = _vertex_normals(points, faces)
    return MeshPart(
        positions=np.asarray(points, dtype=np.float32),
        normals=normals,
        uvs=None,
        colors=np.tile(colour.astype(np.float32), (len(points), 1)),
        indices=np.asarray(faces, dtype=np.uint32),
        texture=None,
        metallic=part.metallic,
        roughness=part.roughness,
    )


def _vertex_normals(points: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals : (n, 3) float32."""
    tri = points[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(points, dtype=np.float64)
    for corner in range(3):
        np.add.at(normals, faces[:, corner], face_normals)
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.where(length > 0, length, 1.0)).astype(np.float32)


def _canonical_transform(points: np.ndarray) -> np.ndarray:
    """4x4 that puts the heel at X = 0, the sole at Y = 0 and centres Z.

    The collar (the highest vertices) sits over the heel; a model whose collar is
    at +X is turned 180 degrees about Y (a rotation, so left stays left).
    """
    lo, hi = points.min(axis=0), points.max(axis=0)
    top = points[points[:, 1] >= lo[1] + 0.9 * (hi[1] - lo[1])]
    turn = np.eye(4)
    if top[:, 0].mean() > (lo[0] + hi[0]) / 2:
        turn[0, 0] = turn[2, 2] = -1.0
    turned = points @ turn[:3, :3].T
    lo, hi = turned.min(axis=0), turned.max(axis=0)
    shift = np.eye(4)
    shift[:3, 3] = [-lo[0], -lo[1], -(lo[2] + hi[2]) / 2]
    return shift @ turn


def _transform_part(part: MeshPart, matrix: np.ndarray) -> MeshPart:
    rotation = matrix[:3, :3]
    return MeshPart(
        positions=(part.positions @ rotation.T + matrix[:3, 3]).astype(np.float32),
        normals=(part.normals @ rotation.T).astype(np.float32),
        uvs=part.uvs,
        colors=part.colors,
        indices=part.indices,
        texture=part.texture,
        normal_map=part.normal_map,
        orm=part.orm,
        occlusion_in_orm=part.occlusion_in_orm,
        metallic=part.metallic,
        roughness=part.roughness,
    )


def load_shoe_model(path: str | Path, *, max_triangles: int = DEFAULT_MAX_TRIANGLES, variant: str | None = None) -> ShoeModel:
    """Read a glTF/GLB shoe, decimate to at most ``max_triangles``, and put it in the model frame.

    ``variant`` picks a KHR_materials_variants variant by name (see :func:`model_variants`).
    """
    path = Path(path)
    started = time.perf_counter()
    scene = _load_scene(path, variant)
    meshes = [m for m in scene.dump(concatenate=False) if hasattr(m, "faces") and len(m.faces)]
    if not meshes:
        raise ModelLoadError(f"shoe model {path} holds no triangles", path=str(path))
    parts = [_part_from_trimesh(m) for m in meshes]
    total = sum(p.triangles for p in parts)
    if total > max_triangles:
        parts = [decimate_part(p, max(4, int(p.triangles * max_triangles / total))) for p in parts]
        _LOGGER.info("decimated %s from %d to %d triangles", path.name, total, sum(p.triangles for p in parts))
    matrix = _canonical_transform(np.concatenate([p.positions for p in parts]).astype(np.float64))
    parts = [_transform_part(p, matrix) for p in parts]
    extent = np.concatenate([p.positions for p in parts]).max(axis=0) - np.concatenate([p.positions for p in parts]).min(axis=0)
    _LOGGER.debug("loaded %s in %.2f s", path, time.perf_counter() - started)
    return ShoeModel(path.stem, tuple(parts), float(extent[0]), float(extent[2]), float(extent[1]))
