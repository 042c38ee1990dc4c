import random

import numpy as np

from ddt.world import COLOURS, Obj, detect, make_scene, normalize_background, random_background, random_scene, render


def test_detector_reads_rendered_scenes_exactly():
    rng = random.Random(0)
    for _ in range(150):
        scene = random_scene(rng)
        assert detect(render(scene, 32, random_background(rng))) == scene


def test_background_is_pale_and_colours_exact():
    img = render(make_scene([Obj(4, "red", "square")]), 32, (230, 240, 250))
    assert tuple(img[0, 0]) == (230, 240, 250)
    assert tuple(img[16, 16]) == COLOURS["red"]


def test_normalize_background_maps_tint_to_white_and_keeps_white():
    img = render(make_scene([Obj(0, "blue", "circle")]), 32, (229, 235, 240))
    out = normalize_background(img)
    assert tuple(out[31, 31]) == (255, 255, 255)
    white = render(make_scene([Obj(0, "blue", "circle")]), 32)
    assert np.array_equal(normalize_background(white), white)


def test_detector_rejects_two_objects_in_one_cell_and_reads_empty():
    assert detect(np.full((32, 32, 3), 255, np.uint8)) == ()
    img = render(make_scene([Obj(0, "red", "circle")]), 32)
    img[0:2, 9:11] = (40, 80, 220)  # a second blob in the same cell, apart from the circle
    assert detect(img) is None
