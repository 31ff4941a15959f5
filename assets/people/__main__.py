"""``python -m assets.people``: draw the bundled mannequin picture again."""
import cv2

from assets.people import MANNEQUIN, draw_mannequin

if __name__ == "__main__":
    cv2.imwrite(str(MANNEQUIN), draw_mannequin())
    print(MANNEQUIN)
