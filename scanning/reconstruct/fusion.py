"""TSDF fusion of calibrated depth frames into a closed solid, with Open3D's tensor ``VoxelBlockGrid``.

Voxel blocks cover only boxes around what stands on the platform, and of those only
the blocks the surface can pass through are fused finely: those a first pass at twice the
voxel size finds the surface in (:func:`surface_blocks`, an eighth of the voxels; the fine
surface is the same as fusing every block), as the foot and body settings both have it, or
with ``coarse_factor`` 1 those the depth images cannot rule out (:func:`select_blocks`). Every voxel of them is integrated from
every frame, so any camera that sees past a voxel carves it free.
Voxels no camera could see into (inside the shopper, under the arch, between toes)
count as solid, and the solid is intersected with a :class:`Slab` above the platform,
so marching cubes returns a closed surface: the platform cut away with a flat face,
every hole filled. Platform frame, metres, z up.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import trimesh

from scanning.errors import ReconstructionError
from scanning.sources.frame import RGBDFrame

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class FusionSettings:
    """Voxel grid and scan volume for one kind of scan.

    voxel_m : voxel edge, metres. trunc_voxels : TSDF truncation in voxels.
    block_resolution : voxels per block edge.
    volume_min / volume_max : the scan volume, platform frame, metres.
    weight_threshold : voxels seen by fewer views (weighted) are not surfaced.
    coarse_factor : above 1, a first pass fuses the blocks at ``coarse_factor`` × ``voxel_m``
        and only the fine blocks the coarse surface runs through (or near) are fused at
        ``voxel_m`` (:func:`surface_blocks`); 1 culls blocks by depth windows instead
        (:func:`select_blocks`). ``block_resolution`` must be a multiple of it.
    coarse_margin_voxels : how far (coarse voxels) from the coarse surface fine blocks are
        still fused: the fine surface must stay inside that band.
    """

    voxel_m: float
    trunc_voxels: float
    block_resolution: int
    volume_min: tuple[float, float, float]
    volume_max: tuple[float, float, float]
    weight_threshold: float = 1.0
    coarse_factor: int = 1
    coarse_margin_voxels: int = 1

    def __post_init__(self) -> None:
        if self.coarse_factor < 1 or self.block_resolution % self.coarse_factor:
            raise ValueError(f"coarse_factor {self.coarse_factor} must be >= 1 and divide "
                             f"block_resolution {self.block_resolution}")

    @property
    def block_m(self) -> float:
        return self.voxel_m * self.block_resolution


@dataclass(frozen=True, eq=False)
class Slab:
    """The region a scan keeps: heights above the platform plane (unit ``normal`` (3,),
    ``offset``: height = normal·p + offset) between ``bottom_m`` and ``top_m``."""

    normal: np.ndarray
    offset: float
    bottom_m: float
    top_m: float

    def distance(self, points: np.ndarray) -> np.ndarray:
        """(n,) signed distance (metres) from (n, 3) points to the slab, positive outside."""
        return self._outside(points @ self.normal + self.offset)

    def distance_on_grid(self, xs: np.ndarray, ys: np.ndarray, zs: np.ndarray) -> np.ndarray:
        """(X, Y, Z) distance at every point of the grid with coordinates ``xs``, ``ys``, ``zs``
        (metres, each 1-D), from per-axis heights (cheaper than per-voxel points)."""
        n = self.normal
        return self._outside(xs[:, None, None] * n[0] + ys[None, :, None] * n[1] + zs[None, None, :] * n[2]
                             + self.offset)

    def _outside(self, heights: np.ndarray) -> np.ndarray:
        """How far ``heights`` lie outside [bottom_m, top_m], negative inside, in their dtype."""
        dtype = heights.dtype.type
        return np.maximum(dtype(self.bottom_m) - heights, heights - dtype(self.top_m))

    def distance_in_blocks(self, keys: np.ndarray, resolution: int, voxel_m: float) -> np.ndarray:
        """(n, R, R, R) float32 distance at every voxel of blocks ``keys``, Open3D's [z, y, x]
        order, from per-block and per-offset heights (cheaper than per-voxel points)."""
        base = (keys * (resolution * voxel_m)) @ self.normal + self.offset
        steps = np.arange(resolution) * voxel_m
        local = (steps[:, None, None] * self.normal[2] + steps[None, :, None] * self.normal[1]
                 + steps[None, None, :] * self.normal[0])
        return self._outside((base[:, None, None, None] + local[None]).astype(np.float32))


FUSION_SETTINGS = {
    "foot": FusionSettings(voxel_m=0.002, trunc_voxels=3.0, block_resolution=8,
                           volume_min=(-0.30, -0.36, -0.012), volume_max=(0.30, 0.36, 0.14), coarse_factor=2),
    # 12 mm coarse voxels close narrow gaps (a hand against the hip, the ankles), where the fine
    # surface lies up to two coarse voxels off the coarse one (one lost surface on a generated body)
    "body": FusionSettings(voxel_m=0.006, trunc_voxels=4.0, block_resolution=4,
                           volume_min=(-0.75, -0.75, -0.02), volume_max=(0.75, 0.75, 2.30), coarse_factor=2,
                           coarse_margin_voxels=2),
}


def camera_points(frame: RGBDFrame, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Platform-frame positions of every ``stride``-th pixel: (h, w, 3) float32 points
    (garbage where there is no reading) and their (h, w) float32 depths (0 = none)."""
    if frame.extrinsic is None:
        raise ReconstructionError(f"camera {frame.camera_id}: frame has no extrinsic; calibrate the rig first",
                                  camera=frame.camera_id)
    k = frame.intrinsics
    u = (np.arange(0, k.width, stride, dtype=np.float32) - k.cx) / k.fx
    v = (np.arange(0, k.height, stride, dtype=np.float32) - k.cy) / k.fy
    depth = frame.depth[::stride, ::stride]
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.float32(1.0)), axis=-1)
    rotation = frame.extrinsic[:3, :3].astype(np.float32)
    return (rays @ rotation.T) * depth[..., None] + frame.extrinsic[:3, 3].astype(np.float32), depth


def in_volume(points: np.ndarray, depth: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(h, w) bool: pixels with a reading whose point lies in the box [lower, upper]."""
    return (depth > 0) & np.all((points >= lower) & (points <= upper), axis=-1)


def block_keys(boxes: list[tuple[np.ndarray, np.ndarray]], settings: FusionSettings) -> np.ndarray:
    """(n, 3) int32 keys of the voxel blocks covering the boxes (platform frame, metres)."""
    block_m = settings.voxel_m * settings.block_resolution
    keys = []
    for lower, upper in boxes:
        first = np.floor(np.asarray(lower) / block_m).astype(np.int64)
        last = np.ceil(np.asarray(upper) / block_m).astype(np.int64)
        axes = [np.arange(a, b) for a, b in zip(first, last)]
        keys.append(np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3))
    return np.unique(np.concatenate(keys), axis=0).astype(np.int32)


def fuse_solid(frames: list[RGBDFrame], all_keys: np.ndarray, settings: FusionSettings,
               slab: Slab) -> trimesh.Trimesh:
    """Fuse the frames' depths into a TSDF over the scan blocks and extract a closed surface
    (marching cubes).

    Every voxel of the blocks near the surface (see :func:`surface_blocks` and
    :func:`select_blocks`) is integrated, so free space seen by any camera is carved.
    Voxels no camera saw (hidden behind the shopper or under the platform) are taken as
    solid, which closes every hole the cameras could not see into. The solid is
    intersected with the kept ``slab`` above the platform's cut, which cuts the platform
    away with a flat face; the outer shell of the blocks is forced to empty space, which
    bounds the solid. Returns the closed surface in the platform frame, metres.

    all_keys : (n, 3) int32 keys of the blocks covering the scan boxes (:func:`block_keys`).
    """
    if settings.coarse_factor > 1:
        keys, unviewed = surface_blocks(frames, all_keys, settings, slab)
    else:
        keys, unviewed = select_blocks(frames, all_keys, settings, slab)
    if len(keys) == 0:
        raise ReconstructionError("nothing on the platform: TSDF fusion left no solid above it")
    grid, slots = _integrate(frames, keys, settings.voxel_m, settings.block_resolution, settings.trunc_voxels)
    tsdf = grid.attribute("tsdf").numpy()
    weight = grid.attribute("weight").numpy()
    tsdf[slots] = _solid_field(tsdf[slots], weight[slots], unviewed, keys, all_keys, settings, slab)
    weight[slots] = 1.0
    surface = grid.extract_triangle_mesh(weight_threshold=0.5)
    vertices = surface.vertex.positions.numpy().astype(np.float64)
    faces = surface.triangle.indices.numpy().astype(np.int64)
    if len(faces) == 0:
        raise ReconstructionError("nothing on the platform: TSDF fusion left no solid above it")
    _LOGGER.debug("fused %d frames over %d blocks into %d triangles", len(frames), len(keys), len(faces))
    return trimesh.Trimesh(*_in_canonical_order(vertices, faces), process=False)


def _in_canonical_order(vertices: np.ndarray, faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same mesh with its vertices sorted by position and its faces by their vertices.

    Open3D's marching cubes lists vertices and faces in the order its threads finish, which
    changes from run to run; every later sum over them (smoothing, areas) then rounds
    differently, and a landmark search on a noisy profile can tip to a neighbouring level.
    In a fixed order the same frames always give the same measurements, to the bit."""
    order = np.lexsort(vertices.T[::-1])
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    faces = rank[faces]
    count = np.int64(len(vertices))
    if count < 2_000_000:  # one int64 key per face (count³ fits): a third of lexsort's time
        return vertices[order], faces[np.argsort((faces[:, 0] * count + faces[:, 1]) * count + faces[:, 2])]
    return vertices[order], faces[np.lexsort(faces.T[::-1])]


def _integrate(frames: list[RGBDFrame], keys: np.ndarray, voxel_m: float, resolution: int, trunc_voxels: float):
    """A ``VoxelBlockGrid`` (tsdf, weight) over blocks ``keys`` with every frame integrated,
    and the (n,) int64 storage slots of ``keys``, in their order."""
    import open3d as o3d
    import open3d.core as o3c

    grid = o3d.t.geometry.VoxelBlockGrid(
        attr_names=("tsdf", "weight"),
        attr_dtypes=(o3c.float32, o3c.float32),
        attr_channels=((1), (1)),
        voxel_size=voxel_m,
        block_resolution=resolution,
        block_count=len(keys) + 1,
    )
    key_tensor = o3c.Tensor(np.ascontiguousarray(keys, dtype=np.int32))
    grid.hashmap().activate(key_tensor)
    for frame in frames:
        grid.integrate(key_tensor, o3d.t.geometry.Image(o3c.Tensor(np.ascontiguousarray(frame.depth))),
                       o3c.Tensor(frame.intrinsics.matrix(), o3c.float64),
                       o3c.Tensor(np.linalg.inv(frame.extrinsic), o3c.float64),
                       1.0, float(frame.depth.max()) + 0.01, trunc_voxels)
    slots = grid.hashmap().find(key_tensor)[0].numpy().astype(np.int64)
    return grid, slots


def surface_blocks(frames: list[RGBDFrame], all_keys: np.ndarray, settings: FusionSettings,
                   slab: Slab) -> tuple[np.ndarray, np.ndarray]:
    """The blocks among ``all_keys`` that the closed surface runs through, found by fusing
    every frame first at ``coarse_factor`` × the voxel size (1/f³ of the voxels).

    The coarse solid field is built like the fine one (unseen voxels solid, the slab cut,
    empty outside the scan blocks); a fine block is kept when that field changes sign
    within it or within ``coarse_margin_voxels`` coarse voxels of it, the band in which the
    fine surface can differ from the coarse one. A fine voxel's TSDF does not depend on which
    other blocks are fused, so the fine surface is the one fusing every block would give,
    wherever it lies in the kept band. Returns (m, 3) int32 keys and (m,) bool: which of
    them no camera has in view (their unseen voxels count as empty).
    """
    from scipy import ndimage

    f = settings.coarse_factor
    margin_voxels = settings.coarse_margin_voxels
    r = settings.block_resolution
    per_block = r // f  # coarse voxels along a fine block's edge
    unviewed_all = ~_in_any_view(frames, (all_keys + 0.5) * settings.block_m, settings.block_m * np.sqrt(3.0) / 2.0)
    coarse_keys = np.unique(all_keys // f, axis=0).astype(np.int32)
    grid, slots = _integrate(frames, coarse_keys, settings.voxel_m * f, r, settings.trunc_voxels)
    tsdf = grid.attribute("tsdf").numpy()[slots][..., 0]
    weight = grid.attribute("weight").numpy()[slots][..., 0]
    # the coarse solid field, dense, [x, y, z] order, from coarse voxel index origin * r
    origin = coarse_keys.min(axis=0)
    cells = coarse_keys.max(axis=0) - origin + 1
    seen = _dense(weight, coarse_keys - origin, cells, r, fill=0.0) > 0
    field = _dense(tsdf, coarse_keys - origin, cells, r, fill=1.0)
    # fine blocks are cells of per_block coarse voxels; outside them lies empty space, and
    # unseen voxels of blocks no camera has in view are empty too, as in the fine field
    fine_origin = origin * f
    inside = np.zeros(tuple(cells * f), dtype=bool)
    inside[tuple((all_keys - fine_origin).T)] = True
    out_of_view = np.zeros(tuple(cells * f), dtype=bool)
    out_of_view[tuple((all_keys - fine_origin).T)] = unviewed_all

    def upsample(cellwise: np.ndarray) -> np.ndarray:
        return cellwise.repeat(per_block, 0).repeat(per_block, 1).repeat(per_block, 2)

    field = np.where(seen, field, np.where(upsample(out_of_view), np.float32(1.0), np.float32(-1.0)))
    # the slab cut at every coarse voxel's point, clipped to the truncation like the fine field
    trunc_m = settings.trunc_voxels * settings.voxel_m * f
    axes = [(origin[i] * r + np.arange(cells[i] * r)) * settings.voxel_m * f for i in range(3)]
    cut = np.clip(slab.distance_on_grid(*axes) / trunc_m, -1.0, 1.0)
    field = np.maximum(field, cut)
    field[~upsample(inside)] = 1.0
    # sign change within [block - margin, block + 1 voxel + margin] coarse voxels
    size = per_block + 2 * margin_voxels + 1
    size += 1 - size % 2  # odd, so the window's centre is a voxel
    low = ndimage.minimum_filter(field, size, mode="constant", cval=1.0)
    high = ndimage.maximum_filter(field, size, mode="constant", cval=1.0)
    start = (all_keys - fine_origin) * per_block - margin_voxels + (size - 1) // 2
    index = tuple(start.T)
    wanted = (low[index] < 0) & (high[index] > 0)
    _LOGGER.debug("coarse pass kept %d of %d blocks", int(wanted.sum()), len(all_keys))
    return all_keys[wanted].astype(np.int32), unviewed_all[wanted]


def _dense(values: np.ndarray, cells: np.ndarray, shape: np.ndarray, r: int, fill: float) -> np.ndarray:
    """(X, Y, Z) float32 grid of block voxel ``values`` ((n, R, R, R), Open3D's [z, y, x]
    order) at block cells ``cells`` ((n, 3), from 0) of a ``shape`` cell grid; ``fill`` elsewhere."""
    dense = np.full((shape[0], r, shape[1], r, shape[2], r), fill, dtype=np.float32)
    dense[cells[:, 0], :, cells[:, 1], :, cells[:, 2], :] = values.transpose(0, 3, 2, 1)
    return dense.reshape(shape[0] * r, shape[1] * r, shape[2] * r)


def _in_any_view(frames: list[RGBDFrame], centres: np.ndarray, radius: float) -> np.ndarray:
    """(n,) bool: which block centres some camera has in front of it and inside its image."""
    viewed = np.zeros(len(centres), dtype=bool)
    for frame in frames:
        viewed |= _project_centres(frame, centres, radius)[2]
    return viewed


def _project_centres(frame: RGBDFrame, centres: np.ndarray,
                     radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Block centres (n, 3) in ``frame``: (n,) int64 pixel column and row, whether the block
    lies in front of the camera (``radius`` past it) and its centre inside the image, and
    the camera-frame depth z (metres)."""
    camera = (centres - frame.extrinsic[:3, 3]) @ frame.extrinsic[:3, :3]
    z = camera[:, 2]
    k = frame.intrinsics
    u = np.round(k.fx * camera[:, 0] / np.maximum(z, 1e-6) + k.cx).astype(np.int64)
    v = np.round(k.fy * camera[:, 1] / np.maximum(z, 1e-6) + k.cy).astype(np.int64)
    seen = (z > radius) & (u >= 0) & (u < k.width) & (v >= 0) & (v < k.height)
    return u, v, seen, z


def _solid_field(tsdf: np.ndarray, weight: np.ndarray, unviewed: np.ndarray, keys: np.ndarray, all_keys: np.ndarray,
                 settings: FusionSettings, slab: Slab) -> np.ndarray:
    """(n, R, R, R, 1) TSDF with unseen voxels solid (-1) (empty in blocks no camera has
    in view), intersected with the kept region (CSG: the larger of the two signed
    distances), shell voxels empty (+1).

    Open3D stores a block's voxels as [z, y, x]; a voxel's sample point is
    (key * R + index) * voxel_m.
    """
    r = settings.block_resolution
    unseen_value = np.where(unviewed, np.float32(1.0), np.float32(-1.0))[:, None, None, None, None]
    field = np.where(weight > 0, tsdf, unseen_value)
    trunc_m = settings.trunc_voxels * settings.voxel_m
    cut = np.clip(slab.distance_in_blocks(keys, r, settings.voxel_m) / trunc_m, -1.0, 1.0)[..., None]
    field = np.maximum(field, cut)
    field[_shell(keys, all_keys, r)] = 1.0
    return field


def select_blocks(frames: list[RGBDFrame], keys: np.ndarray, settings: FusionSettings,
                  slab: Slab) -> tuple[np.ndarray, np.ndarray]:
    """The blocks among ``keys`` that the closed surface can pass through.

    A block is free when it is wholly outside the ``slab`` (at its 8 corners) or some
    camera sees past all of it (the nearest reading around the block's image lies
    beyond it); it is hidden when every camera's farthest reading around it lies in
    front of it (or there is none). The surface can only run through the other,
    uncertain blocks, and between hidden and free ones; only those blocks and their
    neighbours need voxels. Blocks no camera has in view count as free.
    Returns (m, 3) int32 keys and (m,) bool: which of them no camera has in view.
    """
    from scipy import ndimage

    block_m = settings.voxel_m * settings.block_resolution
    corners = np.stack(np.meshgrid([0, 1], [0, 1], [0, 1], indexing="ij"), axis=-1).reshape(8, 3)
    corner_points = ((keys[:, None, :] + corners[None]) * block_m).reshape(-1, 3)
    free = (slab.distance(corner_points) > 0).reshape(-1, 8).all(axis=1)
    hidden = np.ones(len(keys), dtype=bool)
    viewed = np.zeros(len(keys), dtype=bool)
    centres = (keys + 0.5) * block_m
    radius = block_m * np.sqrt(3.0) / 2.0
    for frame in frames:
        nearest, farthest, seen, z = _depth_around(frame, centres, radius)
        free |= seen & (nearest - z > radius + settings.trunc_voxels * settings.voxel_m)
        hidden &= ~seen | (z - farthest > radius)
        viewed |= seen
    free |= ~viewed
    hidden &= ~free
    base = keys.min(axis=0) - 1
    shape = tuple(keys.max(axis=0) - base + 2)
    index = tuple((keys - base).T)
    grids = {}
    for name, values, fill in (("free", free, True), ("hidden", hidden, False), ("uncertain", ~free & ~hidden, False)):
        grids[name] = np.full(shape, fill, dtype=bool)
        grids[name][index] = values
    cube = np.ones((3, 3, 3), dtype=bool)
    wanted = (ndimage.binary_dilation(grids["uncertain"], cube)
              | (grids["hidden"] & ndimage.binary_dilation(grids["free"], cube))
              | (grids["free"] & ndimage.binary_dilation(grids["hidden"], cube)))
    chosen = wanted[index]
    return keys[chosen].astype(np.int32), ~viewed[chosen]


def _depth_around(frame: RGBDFrame, centres: np.ndarray, radius: float):
    """Per block centre: nearest and farthest depth reading in the window its block
    covers in ``frame`` (0 where there is none), whether it projects into the image,
    and its camera-frame depth z (metres)."""
    import cv2

    u, v, seen, z = _project_centres(frame, centres, radius)
    ahead = z > radius
    nearest = np.zeros(len(centres))
    farthest = np.zeros(len(centres))
    if not np.any(ahead):
        return nearest, farthest, ahead, z
    window = int(np.ceil(frame.intrinsics.fx * radius / z[ahead].min()))
    kernel = np.ones((2 * window + 1, 2 * window + 1), np.uint8)
    nearest[seen] = cv2.erode(frame.depth, kernel)[v[seen], u[seen]]
    farthest[seen] = cv2.dilate(frame.depth, kernel)[v[seen], u[seen]]
    return nearest, farthest, seen, z


def _shell(keys: np.ndarray, all_keys: np.ndarray, r: int) -> np.ndarray:
    """(n, R, R, R) bool, [z, y, x] order: voxels of the blocks ``keys`` on a face that
    borders space outside ``all_keys`` (the scan boxes), where the solid must end."""
    base = all_keys.min(axis=0) - 1
    occupied = np.zeros(tuple(all_keys.max(axis=0) - base + 2), dtype=bool)
    occupied[tuple((all_keys - base).T)] = True
    shell = np.zeros((len(keys), r, r, r), dtype=bool)
    for axis in range(3):
        for step in (-1, 1):
            neighbour = keys - base
            neighbour[:, axis] += step
            exposed = ~occupied[tuple(neighbour.T)]
            face = [slice(None)] * 3
            face[2 - axis] = 0 if step < 0 else r - 1  # storage axes are z, y, x
            shell[(exposed,) + tuple(face)] = True
    return shell
