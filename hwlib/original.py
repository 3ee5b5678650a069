"""The original (course) report's published numbers, kept as constants so that tables comparing them
with a run quote them, never retype them.

Source: the original report (in Chinese), question 2 ("使用 2~4層的CNN layer ... 到達Resnet34的90%"):
its accuracy curves' captions ("最高performance到達0.524 , testing_acc為0.53" for the 4-conv model,
"最高performance到達0.477 , testing_acc為0.45" for ResNet34, both "在10epochs內") and its torchinfo
printouts ("Total params: 5,375,538 ... Total mult-adds (G): 3.86" and "Total params: 21,847,722 ...
Total mult-adds (G): 1.20"), on the course's 50-class mini-ImageNet at 128 x 128 px.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class OriginalDenseResults:
    """Question 2 as the original report states it: one run per model, 10 epochs, 128 px, 50 classes."""

    num_classes: int = 50
    image_size: int = 128  # px
    epochs: int = 10
    runs_per_model: int = 1
    dense4_test_acc: float = 0.53
    dense4_val_best: float = 0.524
    resnet34_test_acc: float = 0.45
    resnet34_val_best: float = 0.477
    dense4_params: int = 5_375_538
    resnet34_params: int = 21_847_722
    dense4_macs_g: float = 3.86  # torchinfo "Total mult-adds (G)" per image at 128 px
    resnet34_macs_g: float = 1.20

    @property
    def ratio(self) -> float:
        """Dense4 / ResNet34 test accuracy as the original's two numbers give it."""
        return self.dense4_test_acc / self.resnet34_test_acc


ORIGINAL_DENSE = OriginalDenseResults()


@dataclass(frozen=True, kw_only=True)
class OriginalFlexResults:
    """Question 1 as the original report states it: 3-channel (RGB) input only, one run each, best
    validation accuracy from its accuracy-curve captions ("val acc最高到0.19" for Flex_channel_CNN,
    "val acc最高到0.29" for the 3-layer CNN), 50 classes at 128 px."""

    num_classes: int = 50
    image_size: int = 128  # px
    runs_per_model: int = 1
    flex_val_best: float = 0.19
    cnn3_val_best: float = 0.29

    def setting(self) -> str:
        return f"course mini-ImageNet, {self.num_classes} classes, {self.image_size} px, RGB only, one run"


ORIGINAL_FLEX = OriginalFlexResults()


@dataclass(frozen=True, kw_only=True)
class ReferenceRatio:
    """A 4-conv-network-vs-ResNet34 result measured elsewhere on this homework, quoted for comparison
    only (other people's runs, data splits, code and settings: never a replication)."""

    source: str  # where it comes from (a public repository, or the original report)
    num_classes: int
    image_size: int  # px
    epochs: int
    dense4_test_acc: float  # their <= 4-conv network
    resnet34_test_acc: float  # their from-scratch torchvision ResNet34
    test_images: int | None = None  # size of their test set, where known

    @property
    def ratio(self) -> float:
        return self.dense4_test_acc / self.resnet34_test_acc

    def setting(self) -> str:
        return f"{self.num_classes} classes, {self.image_size} px, {self.epochs} epochs"


# Public solutions of this homework, as quoted with their repositories in the project's notes on
# notebook 02 (each: their 4-block / 4-conv CNN vs torchvision ResNet34 from scratch, test accuracy).
REFERENCES: tuple[ReferenceRatio, ...] = (
    ReferenceRatio(
        source="LittleFish-Coder/deep-learning-assignment-2",
        num_classes=50,
        image_size=256,
        epochs=50,
        dense4_test_acc=0.591,
        resnet34_test_acc=0.598,
    ),
    ReferenceRatio(
        source="chingheng0808/2025-DL-HW1",
        num_classes=50,
        image_size=256,
        epochs=20,
        dense4_test_acc=0.553,
        resnet34_test_acc=0.684,
    ),
    ReferenceRatio(
        source="Sherry2580/Deep-Learning-Assignment-II",
        num_classes=50,
        image_size=256,
        epochs=25,
        dense4_test_acc=0.587,
        resnet34_test_acc=0.678,
    ),
    ReferenceRatio(
        source="eason891023/NCKU_DeepLearning_2024 (HW2)",
        num_classes=50,
        image_size=128,
        epochs=10,
        dense4_test_acc=0.484,
        resnet34_test_acc=0.476,
    ),
)
ORIGINAL_REFERENCE = ReferenceRatio(
    source="the original report (one run each)",
    num_classes=ORIGINAL_DENSE.num_classes,
    image_size=ORIGINAL_DENSE.image_size,
    epochs=ORIGINAL_DENSE.epochs,
    dense4_test_acc=ORIGINAL_DENSE.dense4_test_acc,
    resnet34_test_acc=ORIGINAL_DENSE.resnet34_test_acc,
    test_images=450,  # the course's test.txt: 9 images for each of the 50 classes
)
COURSE_TRAIN_IMAGES = 63_325  # lines of the course's train.txt (50 classes)
COURSE_EPOCHS = 10  # the assignment's training budget
COURSE_BATCH = 64

__all__ = [
    "ORIGINAL_DENSE",
    "ORIGINAL_FLEX",
    "COURSE_BATCH",
    "COURSE_EPOCHS",
    "COURSE_TRAIN_IMAGES",
    "ORIGINAL_REFERENCE",
    "REFERENCES",
    "OriginalDenseResults",
    "OriginalFlexResults",
    "ReferenceRatio",
]
