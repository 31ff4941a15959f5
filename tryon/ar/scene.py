"""What the mirror sees, said to the shopper: nobody there, several people, no feet,
a body cut by the frame or too far away.

:func:`assess` turns one observation into :class:`Notice` codes (what stopped or
weakens the try-on); :func:`draw_notices` writes their messages on the frame, so
the shopper knows what to do instead of looking at an unchanged picture.
"""
from __future__ import annotations

import enum

import numpy as np

from tryon.ar import landmarks as lm
from tryon.ar.tracking import BodyObservation, feet_cut_by_frame


class Notice(str, enum.Enum):
    """One thing the mirror could not do, or could do only in part."""

    NO_PERSON = "no_person"
    SEVERAL_PEOPLE = "several_people"
    NO_FEET = "no_feet"
    FEET_CUT = "feet_cut_by_frame"
    BODY_CUT = "body_cut_by_frame"
    TOO_FAR = "too_far"
    NO_TORSO = "no_torso"


MESSAGES = {
    Notice.NO_PERSON: "No one in view: step in front of the mirror",
    Notice.SEVERAL_PEOPLE: "Several people in view: one at a time, please",
    Notice.NO_FEET: "Your feet are not in view: step back so the mirror sees them",
    Notice.FEET_CUT: "Your feet are cut by the frame: step back a little",
    Notice.BODY_CUT: "Too close: step back so the mirror sees your whole body",
    Notice.TOO_FAR: "Too far: step closer to the mirror",
    Notice.NO_TORSO: "Your shoulders and hips are not in view: step back a little",
}

# A person whose landmarks span less than this fraction of the frame height is too far to draw well.
MIN_BODY_HEIGHT = 0.25


def assess(observation: BodyObservation, image_shape: tuple[int, ...], needs: str) -> tuple[Notice, ...]:
    """The notices for one observation; ``needs`` is "feet" (shoes) or "torso" (garments)."""
    notices: list[Notice] = []
    if observation.faces is not None and observation.faces > 1:
        notices.append(Notice.SEVERAL_PEOPLE)
    if not observation.tracking or observation.pixels is None:
        # Pose found no whole body; a face alone means someone stands too close to the mirror.
        notices.append(Notice.BODY_CUT if observation.faces else Notice.NO_PERSON)
        return tuple(notices)
    height = image_shape[0]
    visible = observation.visibility > 0.5
    span = observation.pixels[visible, 1]
    if len(span) and float(span.max() - span.min()) < MIN_BODY_HEIGHT * height:
        notices.append(Notice.TOO_FAR)
    if needs == "feet" and not observation.feet:
        cut = observation.mask is not None and any(
            feet_cut_by_frame(observation.mask, observation.pixels, side) for side in lm.FOOT)
        notices.append(Notice.FEET_CUT if cut else Notice.NO_FEET)
    if needs == "torso" and not observation.torso:
        notices.append(Notice.NO_TORSO)
    return tuple(notices)


def draw_notices(image: np.ndarray, notices: tuple[Notice, ...]) -> None:
    """Write the notices' messages in a dark band at the bottom of ``image`` (BGR, in place)."""
    if not notices:
        return
    import cv2

    height, width = image.shape[:2]
    scale = max(0.35, min(1.2, width / 1100.0))
    thickness = max(1, int(round(scale * 2)))
    line = int(32 * scale) + 6
    band = line * len(notices) + 8
    top = max(height - band, 0)
    region = image[top:]
    region[...] = (region.astype(np.float32) * 0.35).astype(np.uint8)
    for i, notice in enumerate(notices):
        text = MESSAGES[notice]
        (text_w, _), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        if text_w > width - 12:  # shrink a long message to the frame's width
            text_scale = scale * (width - 12) / text_w
        else:
            text_scale = scale
        y = top + 4 + line * (i + 1) - int(8 * scale)
        cv2.putText(image, text, (6, y), cv2.FONT_HERSHEY_SIMPLEX, text_scale, (255, 255, 255),
                    max(1, int(round(text_scale * 2))), cv2.LINE_AA)
