"""all-MiniLM-L6-v2 sentence embeddings in plain torch (no transformers, no sentence-transformers).

A six-layer BERT encoder, mean pooling over real tokens, L2 normalisation: the same vectors as
`SentenceTransformer(folder).encode(texts, normalize_embeddings=True)`, without importing the
transformers stack (seconds per process). Needs only torch, tokenizers and safetensors.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from langchain_core.embeddings import Embeddings
from safetensors.torch import load_file
from tokenizers import Tokenizer
from torch import nn


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522
    n_embd: int = 384
    n_head: int = 12
    n_layer: int = 6
    n_inner: int = 1536
    max_position: int = 512
    type_vocab_size: int = 2
    eps: float = 1e-12
    max_seq_length: int = 256  # sentence-transformers truncates here, [CLS]/[SEP] included

    @classmethod
    def from_folder(cls, folder: Path) -> BertConfig:
        """Reads a sentence-transformers folder's config.json and sentence_bert_config.json."""
        c = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        st = folder / "sentence_bert_config.json"
        max_len = json.loads(st.read_text(encoding="utf-8"))["max_seq_length"] if st.exists() else 0
        return cls(
            vocab_size=c["vocab_size"],
            n_embd=c["hidden_size"],
            n_head=c["num_attention_heads"],
            n_layer=c["num_hidden_layers"],
            n_inner=c["intermediate_size"],
            max_position=c["max_position_embeddings"],
            type_vocab_size=c["type_vocab_size"],
            eps=c["layer_norm_eps"],
            max_seq_length=max_len or c["max_position_embeddings"],
        )


class SelfAttention(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)  # query, key, value fused
        self.proj = nn.Linear(config.n_embd, config.n_embd)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)  # 3 x (B, T, C)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, nh, T, hs)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Layer(nn.Module):
    """Post-LN BERT block: x = LN(x + attn(x)); x = LN(x + mlp(x))."""

    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.attn = SelfAttention(config)
        self.ln_1 = nn.LayerNorm(config.n_embd, eps=config.eps)
        self.fc = nn.Linear(config.n_embd, config.n_inner)
        self.fc_out = nn.Linear(config.n_inner, config.n_embd)
        self.ln_2 = nn.LayerNorm(config.n_embd, eps=config.eps)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.ln_1(x + self.attn(x, mask))
        return self.ln_2(x + self.fc_out(F.gelu(self.fc(x))))  # exact (erf) GELU


class MiniLM(nn.Module):
    def __init__(self, config: BertConfig) -> None:
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)
        self.wpe = nn.Embedding(config.max_position, config.n_embd)
        self.wtt = nn.Embedding(config.type_vocab_size, config.n_embd)
        self.ln_e = nn.LayerNorm(config.n_embd, eps=config.eps)
        self.layers = nn.ModuleList(Layer(config) for _ in range(config.n_layer))

    def token_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The last layer's contextual token states (B, T, C) for ids and mask, both (B, T)."""
        T = ids.size(1)
        x = self.wte(ids) + self.wpe.weight[:T] + self.wtt.weight[0]  # (B, T, C); one segment
        x = self.ln_e(x)
        attend = mask.bool()[:, None, None, :]  # (B, 1, 1, T): keys that are real tokens
        for layer in self.layers:
            x = layer(x, attend)
        return x

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Unit-length sentence vectors (B, C) for token ids and attention mask, both (B, T)."""
        x = self.token_states(ids, mask)  # (B, T, C)
        m = mask.unsqueeze(-1).to(x.dtype)  # (B, T, 1)
        pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)  # (B, C): mean over real tokens
        return F.normalize(pooled, p=2, dim=1)

    @classmethod
    def from_folder(cls, folder: Path) -> MiniLM:
        """The encoder with the weights of `folder`/model.safetensors (BertModel key names)."""
        config = BertConfig.from_folder(folder)
        model = cls(config)  # (a meta-device build would skip the init, but costs 1.5 s once)
        weights = _convert(load_file(str(folder / "model.safetensors")), config)
        model.load_state_dict(weights, assign=True)
        return model.eval().requires_grad_(False)


def _convert(hf: dict[str, torch.Tensor], config: BertConfig) -> dict[str, torch.Tensor]:
    """Hugging Face BertModel weights (with or without a `bert.`/`model.` prefix) -> MiniLM's."""
    for prefix in ("bert.", "model."):
        if any(k.startswith(prefix + "embeddings.") for k in hf):
            hf = {k.removeprefix(prefix): v for k, v in hf.items() if k.startswith(prefix)}
    e = "embeddings."
    out = {
        "wte.weight": hf[e + "word_embeddings.weight"],
        "wpe.weight": hf[e + "position_embeddings.weight"],
        "wtt.weight": hf[e + "token_type_embeddings.weight"],
        "ln_e.weight": hf[e + "LayerNorm.weight"],
        "ln_e.bias": hf[e + "LayerNorm.bias"],
    }
    for i in range(config.n_layer):
        h, o = f"encoder.layer.{i}.", f"layers.{i}."
        for p in ("weight", "bias"):
            qkv = [hf[f"{h}attention.self.{n}.{p}"] for n in ("query", "key", "value")]
            out[f"{o}attn.qkv.{p}"] = torch.cat(qkv)
            out[f"{o}attn.proj.{p}"] = hf[f"{h}attention.output.dense.{p}"]
            out[f"{o}ln_1.{p}"] = hf[f"{h}attention.output.LayerNorm.{p}"]
            out[f"{o}fc.{p}"] = hf[f"{h}intermediate.dense.{p}"]
            out[f"{o}fc_out.{p}"] = hf[f"{h}output.dense.{p}"]
            out[f"{o}ln_2.{p}"] = hf[f"{h}output.LayerNorm.{p}"]
    return out


class MiniLMEmbeddings(Embeddings):
    """LangChain embeddings over `MiniLM`; vectors are L2-normalised. Safe to share across threads.

    Args:
        folder: a sentence-transformers folder of a BERT model with mean pooling.
        batch_size: texts per forward pass (texts are grouped by length to limit padding).
        model_name: the name reported for the model.
    """

    def __init__(self, folder: Path | str, batch_size: int = 8, model_name: str = "") -> None:
        folder = Path(folder)
        self.model_name = model_name or str(folder)
        self.batch_size = batch_size
        self.model = MiniLM.from_folder(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # padding is per batch, below
        self.tokenizer.enable_truncation(self.model.config.max_seq_length)
        self._lock = threading.Lock()  # one forward at a time: torch already uses every core

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors for `texts`, in input order."""
        if not texts:
            return []
        stripped = [t.strip() for t in texts]  # as sentence-transformers does
        ids = [e.ids for e in self.tokenizer.encode_batch(stripped)]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))  # longest first
        vectors: list[list[float]] = [[] for _ in texts]
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                out = self.model(*_pad([ids[i] for i in batch]))  # (B, C)
                for i, v in zip(batch, out.tolist(), strict=True):
                    vectors[i] = v
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]

    def embed_tokens(self, texts: list[str], max_tokens: int = 96) -> list[TokenStates]:
        """Each text's contextual token states, [CLS] and [SEP] included, at most `max_tokens`
        tokens (the text's end is cut); in input order. The xLSTM token reader reads these."""
        encodings = self.tokenizer.encode_batch([t.strip() for t in texts])
        ids = [_cut(e.ids, max_tokens) for e in encodings]
        lead = [len(t) - len(t.lstrip()) for t in texts]  # offsets count in the unstripped text
        offsets = [
            tuple((a + skip, b + skip) if b else (0, 0) for a, b in _cut(e.offsets, max_tokens))
            for e, skip in zip(encodings, lead, strict=True)
        ]
        order = sorted(range(len(ids)), key=lambda i: -len(ids[i]))
        out: list[TokenStates] = [TokenStates(torch.empty(0), ()) for _ in texts]
        with self._lock, torch.inference_mode():
            for start in range(0, len(order), self.batch_size * 4):
                batch = order[start : start + self.batch_size * 4]
                states = self.model.token_states(*_pad([ids[i] for i in batch]))  # (B, T, C)
                for row, i in enumerate(batch):
                    x = states[row, : len(ids[i])].clone()
                    out[i] = TokenStates(x, tuple(ids[i]), offsets[i])
        return out


@dataclass(frozen=True)
class TokenStates:
    """One text's token states (T, C), its token ids (T,) and each token's (start, end)
    characters in the text ((0, 0) for [CLS] and [SEP])."""

    states: torch.Tensor
    ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...] = ()


def _cut(items: list, max_tokens: int) -> list:
    """The first `max_tokens - 1` items and the last ([SEP]) when there are more."""
    return items if len(items) <= max_tokens else [*items[: max_tokens - 1], items[-1]]


def _pad(ids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids and attention mask, both (B, T), right-padded with id 0 to the longest."""
    T = max(len(x) for x in ids)
    padded = torch.zeros(len(ids), T, dtype=torch.long)
    mask = torch.zeros(len(ids), T, dtype=torch.long)
    for row, x in enumerate(ids):
        padded[row, : len(x)] = torch.tensor(x)
        mask[row, : len(x)] = 1
    return padded, mask
