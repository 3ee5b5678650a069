"""hwlib.plots: class names on the figures, and labels that do not overlap (checked on the drawn figure)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from hwlib import params, plots  # noqa: E402

NAMES10 = [
    "tench",
    "English springer",
    "cassette player",
    "chain saw",
    "church",
    "French horn",
    "garbage truck",
    "gas pump",
    "golf ball",
    "parachute",
]


@pytest.fixture(autouse=True)
def _close_figures():
    plots.set_theme()
    yield
    plt.close("all")


def _texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


def _overlaps(artists, fig) -> list[tuple[str, str]]:
    """Pairs of visible, non-empty text artists whose drawn boxes intersect."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [(a.get_text(), a.get_window_extent(renderer)) for a in artists if a.get_visible() and a.get_text()]
    return [(a, b) for i, (a, ba) in enumerate(boxes) for b, bb in boxes[i + 1 :] if ba.overlaps(bb)]


def _rotated_clear(labels, fig) -> bool:
    """Rotated tick labels do not overlap when neighbouring anchors, measured across the text
    direction, are at least one text height apart (their axis-aligned boxes always overlap)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = [t for t in labels if t.get_text()]
    xs = [t.get_window_extent(renderer).x1 for t in labels]
    angle = np.deg2rad(labels[0].get_rotation())
    height = labels[0].get_fontsize() * fig.dpi / 72
    return min(np.diff(sorted(xs))) * np.sin(angle) >= height


def test_confusion_names_every_class_up_to_20():
    cm = np.eye(10, dtype=int) * 5 + 1
    ax = plots.plot_confusion(cm, title="t", labels=NAMES10)
    assert _texts(ax.get_yticklabels()) == NAMES10 and _texts(ax.get_xticklabels()) == NAMES10
    assert ax.get_xlabel() == "predicted"
    assert _rotated_clear(ax.get_xticklabels(), ax.figure) and not _overlaps(ax.get_yticklabels(), ax.figure)


def test_confusion_at_50_classes_names_rows_and_numbers_columns():
    names = [f"name {i}" for i in range(50)]
    fig = plots.plot_confusion_grid({"a": np.eye(50, dtype=int), "b": np.eye(50, dtype=int)}, class_names=names)
    ax = fig.axes[0]
    assert _texts(ax.get_yticklabels())[3] == "3 name 3" and _texts(ax.get_xticklabels())[3] == "3"
    assert "class index" in ax.get_xlabel()
    assert not _overlaps(ax.get_yticklabels(), fig) and _rotated_clear(ax.get_xticklabels(), fig)


def test_confusion_grid_hides_unused_panels():
    fig = plots.plot_confusion_grid({f"m{i}": np.eye(3, dtype=int) for i in range(3)}, class_names=["a", "b", "c"])
    heatmaps = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in heatmaps] == ["m0", "m1", "m2"]


def test_class_samples_one_titled_image_per_class():
    images = np.random.default_rng(0).integers(0, 255, (12, 3, 8, 8), dtype=np.uint8)
    labels = np.array([2, 0, 1, 0, 2, 1, 0, 1, 2, 0, 1, 2])
    fig = plots.plot_class_samples(images, labels, ["cat", "dog", "a very long class name indeed"], title="x")
    titled = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in titled] == ["cat", "dog", "a very long\nclass name…"]
    assert np.array_equal(titled[0].images[0].get_array(), images[1].transpose(1, 2, 0))  # first image of class 0


def test_per_class_accuracy_sorted_with_chance_line():
    acc = np.array([0.2, 0.9, 0.5])
    fig = plots.plot_per_class_accuracy(acc, ["a", "b", "c"], title="t", chance=1 / 3)
    ax = fig.axes[0]
    assert _texts(ax.get_yticklabels()) == ["b", "c", "a"]
    assert "chance (1/3 = 0.33)" in _texts(ax.get_legend().get_texts())
    assert not _overlaps(ax.get_yticklabels(), fig)


def test_misclassified_titles_name_true_and_predicted():
    images = np.zeros((5, 3, 8, 8), dtype=np.uint8)
    fig = plots.plot_misclassified(images, [(0, 1, 2), (4, 0, 1)], ["cat", "dog", "fox"], title="t")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles == ["true: dog\npred: fox", "true: cat\npred: dog"]
    assert not _overlaps([ax.title for ax in fig.axes], fig)


def test_accuracy_vs_cost_legend_and_readable_ticks():
    points = {
        "k512": (5.3e6, 0.51),
        "k256": (1.4e6, 0.52),
        "k128": (3.6e5, 0.45),
        "no_concat": (3.7e6, 0.50),
        "no_transition": (6.5e6, 0.45),
    }
    fig = plots.plot_accuracy_vs_cost(points, xlabel="parameters", title="t")
    ax = fig.axes[0]
    assert _texts(ax.get_legend().get_texts()) == list(points)
    assert not ax.texts  # names live in the legend, not on the points
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) >= 3 and not _overlaps(ticks, fig)
    assert {"1M", "2M", "5M"} <= set(_texts(ticks))


def test_params_vs_channels_separates_coinciding_curves():
    channels = np.unique(np.logspace(0, 11, 400, base=2).astype(int))
    curves, cross = params.params_vs_channels(out_channels=32, channels=channels, map_sizes=(4, 8, 16, 32))
    fig = plots.plot_params_vs_channels(curves, channels, cross, conv_label="Conv2d(C, 32, 3)")
    ax = fig.axes[0]
    legend = _texts(ax.get_legend().get_texts())
    assert len(legend) == len(curves) and "FlexConv pooled (any size): 74,088 params" in legend
    # 16x16 original and pooled differ by 62 parameters: one label names both crossovers
    joint = [t.get_text() for t in ax.texts if "257" in t.get_text()]
    assert joint == ["C = 257: original, 16x16 maps\nC = 258: pooled (any size)"]
    assert len(ax.texts) == 4 and not _overlaps(ax.texts, fig)
    lines = {line.get_label(): line for line in ax.get_lines()}
    wide, dotted = (
        lines["FlexConv original, 16x16 maps: 74,026 params"],
        lines["FlexConv pooled (any size): 74,088 params"],
    )
    assert wide.get_linewidth() > dotted.get_linewidth() and dotted.get_linestyle() == ":"


def test_budget_curve_labels_the_bar_and_equality_and_every_budget():
    from hwlib.stats import Interval

    acc = {
        "dense4": [(141, [0.40, 0.42, 0.41]), (282, [0.50, 0.51, 0.52])],
        "resnet34": [(141, [0.30, 0.31, 0.32]), (282, [0.45, 0.46, 0.44])],
    }
    ratios = [(141, Interval(1.3, 1.2, 1.4)), (282, Interval(1.12, 1.05, 1.2))]
    fig = plots.plot_budget_curve(
        acc,
        ratios,
        labels={"dense4": "Dense4", "resnet34": "ResNet34"},
        colours={"dense4": "#1b9e77", "resnet34": "#7570b3"},
        ratio_label="Dense4 / ResNet34",
        bar=0.9,
        title="t",
    )
    left, right = fig.axes[:2]
    texts = [t.get_text() for t in right.texts]
    assert "goal: 0.90" in texts and "equal accuracy: 1.00" in texts
    assert [t.get_text() for t in right.get_xticklabels()] == ["141", "282"]
    assert {t.get_text() for t in left.get_legend().get_texts()} == {"Dense4 (mean)", "ResNet34 (mean)"}


def test_references_are_labelled_with_their_setting_and_the_bar():
    from hwlib.stats import Interval

    fig = plots.plot_references(
        [("a\n50 classes", Interval(1.18, 1.02, 1.34)), ("b\n50 classes", 0.81)], bar=0.9, title="t"
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a\n50 classes", "b\n50 classes"]
    assert {"goal: 0.90", "equal accuracy: 1.00"} <= {t.get_text() for t in ax.texts}


# -- notebook 01's figures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def channel_res():
    from .test_studies_channels import channel_result

    return channel_result()


def test_gap_to_experts_dots_intervals_and_labelled_lines(channel_res):
    fig = plots.plot_gap_to_experts(channel_res, models=["flex", "template_mixing", "replicate"], title="t")
    ax = fig.axes[0]
    assert _texts(ax.get_xticklabels()) == ["RGB", "RG", "GB", "RB", "R", "G", "B", "mean\nof 7"]
    assert _texts(ax.get_legend().get_texts()) == ["flex", "template_mixing", "replicate"]
    levels = {round(line.get_ydata()[0], 3) for line in ax.lines if len(set(line.get_ydata())) == 1}
    assert {0.0, -1.0} <= levels
    assert any("0" in t.get_text() and "expert" in t.get_text() for t in ax.texts)
    assert any("-1" in t.get_text() and "bar" in t.get_text() for t in ax.texts)
    flex = ax.containers[0]  # errorbar: (data line, caps, bars)
    gb = channel_res.diff("flex", "experts", "GB")
    assert flex.lines[0].get_ydata()[2] == pytest.approx(100 * gb.estimate)
    segs = flex.lines[2][0].get_segments()
    assert [segs[2][0][1], segs[2][1][1]] == pytest.approx([100 * gb.low, 100 * gb.high])
    assert not _overlaps(ax.texts, fig)


def test_cost_accuracy_labels_every_point_without_overlap(channel_res):
    fig = plots.plot_cost_accuracy(channel_res, title="t")
    ax = fig.axes[0]
    names = [m for m in channel_res.correct if m in channel_res.costs]
    labels = [t for t in ax.texts if t.get_text()]
    assert sorted(t.get_text() for t in labels) == sorted(names)
    assert not _overlaps(labels, fig)
    assert ax.get_xscale() == "log" and len(ax.containers) == len(names)
    markers = {c.lines[0].get_marker() for c in ax.containers}
    colours = {tuple(c.lines[0].get_color()) for c in ax.containers}
    assert len(markers) == len(colours) == len(names)


def test_compute_accuracy_draws_one_panel_per_training_count(channel_res):
    seen = channel_res.training_images_seen()
    fig = plots.plot_compute_accuracy(channel_res, title="t")
    levels = sorted({seen[m] for m in channel_res.correct if m in seen})
    assert len(fig.axes) == len(levels)
    for ax, level in zip(fig.axes, levels):
        assert f"{level:,}" in ax.get_title(loc="left")
        drawn = [t.get_text() for t in ax.get_yticklabels()]
        assert {seen[m] for m in drawn} == {level}
        accs = [channel_res.mean_of_seven(m) for m in drawn]
        assert accs == sorted(accs)  # sorted by accuracy within a panel
        xs = [c.lines[0].get_xdata()[0] for c in ax.containers]
        assert xs == pytest.approx(accs)
    assert sum(len(ax.get_yticklabels()) for ax in fig.axes) == len([m for m in channel_res.correct if m in seen])
    only = plots.plot_compute_accuracy(channel_res, title="t", models=["flex", "experts"])
    assert sorted(t.get_text() for ax in only.axes for t in ax.get_yticklabels()) == ["experts", "flex"]


def test_flexconv_flow_shows_static_and_residual_with_a_colour_bar():
    import torch

    from hwlib.flexconv import flex_conv2d, kernel_diversity

    torch.manual_seed(0)
    layer = flex_conv2d(mode="hybrid", out_channels=8, known_channels=3)
    with torch.no_grad():
        layer.feature2kernel[-1].weight.normal_(0, 0.05)  # a residual that is not zero
    image = torch.rand(1, 3, 32, 32)
    fig = plots.plot_flexconv_flow(layer, image, [0, 1, 2], cosine_over_images=0.5)
    titles = " ".join(ax.get_title() for ax in fig.axes)
    assert "static kernel" in titles and "residual" in titles and "kernel used" in titles
    assert any(ax.get_xlabel().startswith("kernel weight") for ax in fig.axes)  # the colour bar
    cos = kernel_diversity(layer, image, [0, 1, 2])["cosine_across_channels"]
    title = fig._suptitle.get_text()
    assert f"{cos:.2f} on this image" in title and "0.50 over the first 64 test images" in title
    trace = plots.flow_trace(layer, image, [0, 1, 2])
    assert torch.allclose(trace["static"] + trace["residual"], trace["kernels"])


def test_history_bands_skip_a_model_not_trained_in_a_panel():
    h = [{"epoch": 1, "val_acc": 0.3, "train_acc": 0.4}, {"epoch": 2, "val_acc": 0.5, "train_acc": 0.6}]
    fig = plots.plot_history_bands({"a": {"m1": [h, h], "m2": [h]}, "b": {"m1": [h], "m2": []}}, title="t")
    assert len(fig.axes[1].lines) == 2  # m1's validation and training lines only


def test_budget_curve_draws_accuracy_against_measured_training_time_when_given():
    from hwlib.stats import Interval

    acc = {"dense4": [(141, [0.40, 0.42]), (282, [0.50, 0.52])], "small": [(99, [0.45, 0.46]), (198, [0.55, 0.56])]}
    seconds = {"dense4": [(120.0, [0.40, 0.42]), (240.0, [0.50, 0.52])], "small": [(125.0, [0.45, 0.46])]}
    fig = plots.plot_budget_curve(
        acc,
        [(141, Interval(0.9, 0.8, 1.0)), (282, Interval(0.92, 0.85, 0.99))],
        labels={"dense4": "Dense4", "small": "Small"},
        colours={"dense4": "#1b9e77", "small": "#d95f02"},
        ratio_label="Dense4 / Small",
        bar=0.9,
        title="t",
        seconds=seconds,
    )
    assert len(fig.axes) == 3
    timed = fig.axes[1]
    assert "training time" in timed.get_xlabel() and len(timed.lines) == 2
    assert list(timed.lines[0].get_xdata()) == [2.0, 4.0]  # minutes


def test_goal_one_budget_curve_adds_flex_and_the_experts_at_the_longer_budget(channel_res):
    from .test_studies_channels import _budget_result

    cur = _budget_result(channel_res, sub_converged=True)
    sub = cur.at_budget[20]
    gap = plots.plot_gap_to_experts(cur, models=["flex", "replicate"], title="t")
    ax = gap.axes[0]
    assert _texts(ax.get_legend().get_texts()) == ["flex", "flex, 20 epochs (vs the experts at 20)", "replicate"]
    rg = sub.diff("flex", "experts", "RG")
    assert ax.containers[1].lines[0].get_ydata()[1] == pytest.approx(100 * rg.estimate)
    fig = plots.plot_compute_accuracy(cur, title="t", models=["flex", "experts"])
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert sorted(labels) == ["experts", "experts, 20 epochs", "flex", "flex, 20 epochs"]
    seen, seen20 = cur.training_images_seen(), sub.training_images_seen()
    assert len(fig.axes) == len({seen["flex"], seen20["flex"]})  # flex and the experts share a panel per budget


def test_beyond_rgb_draws_each_subset_as_an_accuracy_with_its_interval(channel_res):
    import dataclasses

    rng = np.random.default_rng(5)
    rgb = [rng.random(1000) < 0.45 for _ in range(3)]
    beyond = {
        "RGBLE": [x | (rng.random(1000) < 0.05) for x in rgb],
        "RGB": rgb,
        "L": [x & (rng.random(1000) < 0.8) for x in rgb],
    }
    five = dataclasses.replace(channel_res, beyond={"flex_5ch": beyond})
    fig = plots.plot_beyond_rgb(five, title="t")
    ax = fig.axes[0]
    rows = {r["combo"]: r for r in five.beyond_rows()}
    assert _texts(ax.get_xticklabels()) == ["RGBLE\n(5 ch)", "RGB\n(3 ch)", "L\n(1 ch)"]
    ys = [c.lines[0].get_ydata()[0] for c in ax.containers]
    assert ys == pytest.approx([rows[c]["accuracy"] for c in ("RGBLE", "RGB", "L")])  # accuracy, not percent
    assert {f"{rows[c]['accuracy']:.3f}" for c in rows} <= {t.get_text() for t in ax.texts}
