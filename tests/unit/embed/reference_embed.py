#!/usr/bin/python3
"""Independent reference for the static embedder tests (numpy + unicodedata only).

Usage: reference_embed.py MODEL_DIR TEXTS_JSON OUT_F32 OUT_IDS_JSON
Writes the float32 embeddings (row-major, len(texts) x dim) to OUT_F32 and the token ids
(after dropping [UNK] and keeping the first 512) to OUT_IDS_JSON. Written from the Hugging Face
tokenizers and Model2Vec documentation, sharing no code with the C++ implementation.
"""
import json
import struct
import sys
import unicodedata

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
          "U32": "<u4", "I16": "<i2", "U8": "u1", "I8": "i1"}
MAX_TOKENS = 512


def load_safetensors(path):
    blob = open(path, "rb").read()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + size])
    base = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(blob[base + begin:base + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"])
    return tensors


def is_whitespace(ch):
    return ch in "\t\n\x0b\x0c\r \x85" or unicodedata.category(ch) in ("Zs", "Zl", "Zp")


def is_control(ch):
    if ch in "\t\n\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf", "Cn", "Co", "Cs")


def is_bert_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


CJK = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
       (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F)]


def is_cjk(ch):
    return any(lo <= ord(ch) <= hi for lo, hi in CJK)


def lower(text):
    # Per character, like the Rust tokenizers (no final-sigma context rule).
    return "".join(ch.lower() for ch in text)


def normalizer_steps(spec):
    if spec is None:
        return []
    kind = spec["type"]
    if kind == "Lowercase":
        return ["lower"]
    if kind == "BertNormalizer":
        lowercase = spec.get("lowercase", True)
        strip = spec.get("strip_accents")
        if strip is None:
            strip = lowercase
        steps = []
        if spec.get("clean_text", True):
            steps.append("clean")
        if spec.get("handle_chinese_chars", True):
            steps.append("cjk")
        if strip:
            steps.append("strip")
        if lowercase:
            steps.append("lower")
        return steps
    raise ValueError("unsupported normalizer " + kind)


def normalize(steps, text):
    for step in steps:
        if step == "clean":
            text = "".join(" " if is_whitespace(ch) else ch for ch in text
                           if not (ch == "\0" or ch == "\ufffd" or is_control(ch)))
        elif step == "cjk":
            text = "".join(" " + ch + " " if is_cjk(ch) else ch for ch in text)
        elif step == "strip":
            text = "".join(ch for ch in unicodedata.normalize("NFD", text)
                           if unicodedata.category(ch) != "Mn")
        elif step == "lower":
            text = lower(text)
    return text


def bert_pre_tokenize(text):
    words, current = [], ""
    for ch in text:
        if is_whitespace(ch):
            if current:
                words.append(current)
            current = ""
        elif is_bert_punct(ch):
            if current:
                words.append(current)
            words.append(ch)
            current = ""
        else:
            current += ch
    if current:
        words.append(current)
    return words


class Tokenizer:
    def __init__(self, path):
        spec = json.load(open(path, encoding="utf-8"))
        self.steps = normalizer_steps(spec.get("normalizer"))
        pre = spec.get("pre_tokenizer")
        if pre is not None and pre["type"] != "BertPreTokenizer":
            raise ValueError("unsupported pre_tokenizer")
        self.bert_split = pre is not None
        model = spec["model"]
        self.kind = model["type"]
        self.vocab = model["vocab"]
        self.unk = self.vocab.get(model.get("unk_token"))
        self.prefix = model.get("continuing_subword_prefix", "##")
        self.max_chars = model.get("max_input_chars_per_word", 100)
        self.added = sorted(((t["content"], t["id"]) for t in spec.get("added_tokens", [])
                             if t["content"]), key=lambda t: -len(t[0]))

    def word_ids(self, word):
        if self.kind == "WordLevel":
            if word in self.vocab:
                return [self.vocab[word]]
            return [] if self.unk is None else [self.unk]
        if len(word) > self.max_chars:
            return [self.unk]
        ids, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = (self.prefix if start else "") + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unk]
        return ids

    def segment_ids(self, text):
        if not text:
            return []
        text = normalize(self.steps, text)
        words = bert_pre_tokenize(text) if self.bert_split else ([text] if text else [])
        ids = []
        for word in words:
            ids.extend(self.word_ids(word))
        return ids

    def encode(self, text):
        ids, start, pos = [], 0, 0
        while pos < len(text):
            for content, token_id in self.added:
                if text.startswith(content, pos):
                    ids.extend(self.segment_ids(text[start:pos]))
                    ids.append(token_id)
                    pos += len(content)
                    start = pos
                    break
            else:
                pos += 1
        ids.extend(self.segment_ids(text[start:]))
        return ids


def main():
    model_dir, texts_path, out_path, ids_path = sys.argv[1:5]
    tokenizer = Tokenizer(model_dir + "/tokenizer.json")
    tensors = load_safetensors(model_dir + "/model.safetensors")
    table = tensors["embeddings"].astype(np.float64)
    weights = tensors.get("weights")
    mapping = tensors.get("mapping")
    config = json.load(open(model_dir + "/config.json"))
    texts = json.load(open(texts_path, encoding="utf-8"))
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float64)
    all_ids = []
    for i, text in enumerate(texts):
        ids = [t for t in tokenizer.encode(text) if t != tokenizer.unk][:MAX_TOKENS]
        all_ids.append(ids)
        if not ids:
            continue
        rows = table[np.array([mapping[t] for t in ids]) if mapping is not None else ids]
        if weights is not None:
            rows = rows * weights[ids].astype(np.float64)[:, None]
        mean = rows.mean(axis=0)
        norm = np.linalg.norm(mean)
        out[i] = mean / norm if config.get("normalize", True) and norm > 0 else mean
    out.astype("<f4").tofile(out_path)
    json.dump(all_ids, open(ids_path, "w"))


if __name__ == "__main__":
    main()
