"""Classification metrics from predictions: accuracy, confusion matrix, macro precision/recall/F1."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.size == 0:
        raise ValueError(f"accuracy needs two equal, non-empty label arrays, got {y_true.shape} and {y_pred.shape}")
    return float((y_true == y_pred).mean())


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(num_classes, num_classes) counts; row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


@dataclass(frozen=True)
class ClassificationMetrics:
    """Test-split metrics of one model: accuracy, macro averages and the confusion matrix."""

    accuracy: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    confusion: np.ndarray  # (K, K), rows true, columns predicted

    def as_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "macro_precision": self.macro_precision,
            "macro_recall": self.macro_recall,
            "macro_f1": self.macro_f1,
        }


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> ClassificationMetrics:
    """Macro averages over all classes; a class never predicted has precision 0 (as scikit-learn's
    zero_division=0), a class absent from y_true is left out of the averages."""
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm).astype(float)
    pred_n, true_n = cm.sum(0), cm.sum(1)
    present = true_n > 0
    precision = np.divide(tp, pred_n, out=np.zeros_like(tp), where=pred_n > 0)
    recall = np.divide(tp, true_n, out=np.zeros_like(tp), where=true_n > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return ClassificationMetrics(
        accuracy(y_true, y_pred),
        float(precision[present].mean()),
        float(recall[present].mean()),
        float(f1[present].mean()),
        cm,
    )
