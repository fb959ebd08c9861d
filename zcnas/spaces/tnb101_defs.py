"""TransNAS-Bench-101's fixed facts as plain Python (the micro cell's edges, the tasks and their
heads), shared by the spaces and the network module, which imports this, never the space module."""

from __future__ import annotations

#: (from_node, to_node) of each micro edge, in TNB101's string order (= NB201's)
EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))

TASKS: tuple[str, ...] = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic", "normal",
                          "autoencoder")
#: outputs of each task's head as NASLib builds it (logits, regression targets or output channels)
TASK_OUTPUTS: dict[str, int] = {"class_scene": 63, "class_object": 100, "jigsaw": 1000, "room_layout": 9,
                                "segmentsemantic": 17, "normal": 3, "autoencoder": 3}
#: head family of each task
TASK_HEADS: dict[str, str] = {"class_scene": "linear", "class_object": "linear", "jigsaw": "siamese",
                              "room_layout": "linear", "segmentsemantic": "segmentation",
                              "normal": "generative", "autoencoder": "generative"}
JIGSAW_TILES = 9
