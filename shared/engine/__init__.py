"""The face engine: image bytes in, faces (rectangles, landmarks, attributes, templates) out.

Entry point for the service is ``shared.engine.engine.get_engine()``; models are declared in
``catalog`` and resolved by ``modelstore``; every ONNX model subclasses ``onnx_model.OnnxModel``.
"""
