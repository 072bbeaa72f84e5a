"""The Triton inference service; the logic lives in `aios.inference.triton_server`."""
