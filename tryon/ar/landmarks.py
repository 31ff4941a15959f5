"""MediaPipe Pose landmark indices the mirror uses, and the per-side groups."""
from __future__ import annotations

import enum

NOSE = 0
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12
LEFT_ELBOW, RIGHT_ELBOW = 13, 14
LEFT_WRIST, RIGHT_WRIST = 15, 16
LEFT_HIP, RIGHT_HIP = 23, 24
LEFT_KNEE, RIGHT_KNEE = 25, 26
LEFT_ANKLE, RIGHT_ANKLE = 27, 28
LEFT_HEEL, RIGHT_HEEL = 29, 30
LEFT_FOOT_INDEX, RIGHT_FOOT_INDEX = 31, 32
NUM_LANDMARKS = 33

TORSO = (LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP)


class Side(str, enum.Enum):
    """The shopper's own left or right (on a front view, their left is on the image's right)."""

    LEFT = "left"
    RIGHT = "right"


FOOT = {
    Side.LEFT: (LEFT_ANKLE, LEFT_HEEL, LEFT_FOOT_INDEX),
    Side.RIGHT: (RIGHT_ANKLE, RIGHT_HEEL, RIGHT_FOOT_INDEX),
}
KNEE = {Side.LEFT: LEFT_KNEE, Side.RIGHT: RIGHT_KNEE}
ARM = {
    Side.LEFT: (LEFT_SHOULDER, LEFT_ELBOW, LEFT_WRIST),
    Side.RIGHT: (RIGHT_SHOULDER, RIGHT_ELBOW, RIGHT_WRIST),
}
