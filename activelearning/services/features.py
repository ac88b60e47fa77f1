"""Feature spaces and the per-item feature cache, filled in bulk inside the training job."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from activelearning import adapters
from activelearning.models import FeatureSpace
from annotation.models import Project
from core.jobs import JobContext
from kinds.registry import item_media

if TYPE_CHECKING:
    from activelearning.features import FeatureExtractor

# The pure module's defaults (2 x 2**18 hashed columns, 256 SVD components) keep a 537 MB dense SVD basis and
# took minutes to fit on 2,000 short texts on the 2-core test machine; these keep the basis at ~8 MB.
TEXT_PARAMS = {"n_word_features": 2**14, "n_char_features": 2**14, "svd_sample": 5000}
# The base model standardises every feature column, so on a small corpus the trailing SVD components (noise, as
# many as there are documents) weigh as much as the leading ones: 64 components on 36 texts gave 36 % k-fold
# accuracy where 8 gave 100 %. One component per 4 items, between 2 and 64, avoids that.
MAX_TEXT_COMPONENTS = 64
ITEMS_PER_COMPONENT = 4
# A fitted (text) space is refitted once the project has grown past this multiple of the items it was fitted on.
REFIT_GROWTH = 2.0
FEATURE_CHUNK = 500


@dataclass(frozen=True)
class ActiveSpace:
    space: FeatureSpace
    extractor: FeatureExtractor
    computed: int


def _fresh_extractor(project: Project, seed: int, n_items: int) -> tuple[FeatureExtractor, dict, bool]:
    """(extractor, constructor params, fitted-on-corpus?) chosen by what the project's items are."""
    # Imported here, not at module level: the extractors pull in librosa and scikit-learn, which only a training
    # job needs; web and worker startup import this module and must stay free of the ML stack.
    from activelearning.features import TextFeatureExtractor, extractor_for

    extractor = extractor_for(item_media(project))
    if isinstance(extractor, TextFeatureExtractor):
        components = min(MAX_TEXT_COMPONENTS, max(2, n_items // ITEMS_PER_COMPONENT))
        params = {**TEXT_PARAMS, "n_components": components, "seed": seed}
        return TextFeatureExtractor(**params), params, True
    return extractor, {}, False


def _reusable(space: FeatureSpace | None, identity: str, stateful: bool, n_items: int) -> bool:
    if space is None or space.extractor != identity:
        return False
    if not stateful:
        return True
    return space.state is not None and n_items <= REFIT_GROWTH * max(space.n_fit_items, 1)


def feature_space_ensure(
    *, project: Project, seed: int, context: JobContext | None = None
) -> ActiveSpace | None:
    """The project's current feature space with a cached vector for every item; None when it has no items.

    Text spaces are fitted on the whole corpus (streamed) and kept until the project doubles in size; image and
    audio extractors are stateless, so their space lives as long as the extractor version. Items are featurised
    ``FEATURE_CHUNK`` at a time and stored with one bulk insert per chunk; rows cached by an earlier (or a
    retried) run are reused.
    """
    n_items = adapters.item_count(project=project)
    if n_items == 0:
        return None
    extractor, params, stateful = _fresh_extractor(project, seed, n_items)
    current = adapters.feature_space_current(project=project)
    if _reusable(current, extractor.identity, stateful, n_items):
        space = current
        if stateful:
            extractor = adapters.feature_space_extractor(space=space)
    else:
        if stateful:
            if context:
                context.progress(0.02, "fitting the text feature space")
            extractor.fit(adapters.item_inputs(project=project))
        key = f"{extractor.identity}#{uuid.uuid4().hex[:12]}"
        space = adapters.feature_space_store(
            project=project,
            key=key,
            extractor=extractor,
            identity=extractor.identity,
            params=params,
            stateful=stateful,
            n_fit_items=n_items,
        )
        adapters.features_forget(project=project, keep_key=space.key)
    computed = 0
    for item_ids, inputs in adapters.items_missing_features(
        project=project, key=space.key, chunk=FEATURE_CHUNK
    ):
        matrix = extractor.transform(inputs)
        computed += adapters.features_store(key=space.key, item_ids=item_ids, matrix=matrix)
        if context:
            context.progress(0.05 + 0.25 * min(computed / n_items, 1.0), f"features for {computed} items")
    return ActiveSpace(space=space, extractor=extractor, computed=computed)
