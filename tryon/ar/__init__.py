"""The AR mirror: body tracking, shoe rendering and garment warping over camera frames.

Entry points: :func:`build_tryon` (from a SKU, a shoe model or a garment image),
:class:`BodyTracker`, :class:`Mirror` (the pipelined loop), :class:`FrameSource`.
"""
from tryon.ar.catalog import asset_for_sku, build_tryon
from tryon.ar.errors import ArError, ArInputError, ModelLoadError, RenderError
from tryon.ar.garment import Garment, GarmentTryOn, load_garment
from tryon.ar.mesh import ShoeModel, load_shoe_model, model_variants
from tryon.ar.pipeline import FrameResult, Mirror, MirrorStats
from tryon.ar.render import ShoeRenderer
from tryon.ar.shoes import ShoeFit, ShoeTryOn
from tryon.ar.sources import FrameSink, FrameSource
from tryon.ar.tracking import BodyObservation, BodyTracker, GateConfig, TrackingState

__all__ = [
    "ArError", "ArInputError", "BodyObservation", "BodyTracker", "FrameResult", "FrameSink",
    "FrameSource", "GateConfig", "Garment", "GarmentTryOn", "Mirror", "MirrorStats", "ModelLoadError", "RenderError",
    "ShoeFit", "ShoeModel", "ShoeRenderer", "ShoeTryOn", "TrackingState", "asset_for_sku", "build_tryon",
    "load_garment", "load_shoe_model", "model_variants",
]
