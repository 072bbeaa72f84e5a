"""The bundled MiniLM encoder: unit-length embeddings, and length-sorted batching that keeps input order."""

from __future__ import annotations

import numpy as np

from aios.inference.encoder import SentenceEncoder


def test_length_sorted_batches_return_rows_in_input_order() -> None:
    encoder = SentenceEncoder.load()
    texts = ["hi", "what is the balance of my checking account right now please", "book a table", "transfer money"]
    together = encoder.encode(texts, batch_size=2)
    one_by_one = np.stack([encoder.encode([text])[0] for text in texts])
    assert together.shape == (4, 384)
    assert np.allclose(together, one_by_one, atol=1e-5)
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([]).shape == (0, 384)
