"""Label-error detection against the generator's recorded flipped labels (known ground truth)."""

from __future__ import annotations

from {{ cookiecutter.package_name }}.core.settings import ModelSettings
from {{ cookiecutter.package_name }}.data.spec import SYNTHETIC_CLINICAL_SPEC as SPEC
from {{ cookiecutter.package_name }}.data.synthetic import generate
from {{ cookiecutter.package_name }}.modelling.models import build_pipeline
from {{ cookiecutter.package_name }}.preparation.label_quality import (
    detection_scores,
    out_of_fold_probabilities,
    suspected_label_errors,
)


def test_detection_finds_flipped_labels_far_above_chance(settings):
    # given generated data with 5% of labels flipped at recorded rows
    data, truth = generate(n=8000, seed=11, label_noise=0.05)
    y = data[SPEC.target].to_numpy()
    features = data[list(SPEC.numeric) + list(SPEC.categorical)].copy()
    for column in SPEC.categorical:
        features[column] = features[column].astype(object)

    def make_pipeline():
        return build_pipeline(list(SPEC.numeric), list(SPEC.categorical),
                              settings.prepare.preprocessing,
                              ModelSettings(name="logistic_regression", params={"max_iter": 1000}))

    # when the label audit runs as the labels stage does
    proba = out_of_fold_probabilities(features, y, make_pipeline, n_splits=5, seed=0)
    suspects = suspected_label_errors(y, proba, data[SPEC.id_column].to_numpy())
    flipped = truth.loc[truth["label_flipped"], "patient_id"]
    scores = detection_scores(suspects["id"], flipped)
    # then precision is several times the 5% base rate and most flips are found. (The
    # outcome itself is noisy, true-risk AUC ~0.75, so many clean labels look wrong too.)
    assert scores["precision"] > 4 * 0.05, scores
    assert scores["recall"] > 0.45, scores
