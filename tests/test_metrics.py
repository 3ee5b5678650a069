"""hwlib.metrics on hand-checked examples."""

import numpy as np
import pytest

from hwlib.metrics import accuracy, classification_metrics, confusion_matrix


def test_metrics_on_a_hand_example():
    y = np.array([0, 0, 1, 1, 2, 2])
    p = np.array([0, 1, 1, 1, 0, 2])
    assert accuracy(y, p) == pytest.approx(4 / 6)
    assert confusion_matrix(y, p, 3).tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    r = classification_metrics(y, p, 3)
    # precision: 1/2, 2/3, 1/1; recall: 1/2, 1, 1/2
    assert r.macro_precision == pytest.approx((0.5 + 2 / 3 + 1) / 3)
    assert r.macro_recall == pytest.approx((0.5 + 1 + 0.5) / 3)
    f1 = [0.5, 0.8, 2 / 3]
    assert r.macro_f1 == pytest.approx(sum(f1) / 3)
