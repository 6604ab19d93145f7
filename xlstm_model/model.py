"""The xLSTM language model: token embedding, residual block stack, post-stack LayerNorm, head.

`forward` trains on whole sequences with the chunkwise (or parallel) mLSTM; `prefill` runs the
same form over a prompt and also returns the recurrent state, and `step` continues one token at
a time from it. A state is a list with one dict of tensors per block (see mlstm.py, slstm.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from xlstm_model.components import small_init_
from xlstm_model.config import XLSTMConfig
from xlstm_model.mlstm import MLSTMBlock
from xlstm_model.slstm import SLSTMBlock

ModelState = list[dict[str, torch.Tensor]]


class XLSTMLM(nn.Module):
    def __init__(self, config: XLSTMConfig) -> None:
        super().__init__()
        self.config = config
        D = config.embedding_dim
        self.token_embedding = nn.Embedding(config.vocab_size, D)
        self.emb_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(
            SLSTMBlock(config, i) if kind == "slstm" else MLSTMBlock(config)
            for i, kind in enumerate(config.block_types())
        )
        self.post_blocks_norm = nn.LayerNorm(D, bias=False)
        self.lm_head = nn.Linear(D, config.vocab_size, bias=False)
        if config.tie_weights:
            self.lm_head.weight = self.token_embedding.weight
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for block in self.blocks:
            block.reset_parameters()
        self.post_blocks_norm.reset_parameters()
        small_init_(self.token_embedding.weight, dim=self.config.embedding_dim)
        if not self.config.tie_weights:
            small_init_(self.lm_head.weight, dim=self.config.embedding_dim)

    def num_params(self) -> int:
        """Number of parameters (a tied embedding/head matrix counted once)."""
        return sum(p.numel() for p in self.parameters())

    def init_state(self, batch_size: int, device: torch.device | str | None = None) -> ModelState:
        """The state before the first token, on `device` (default: the model's)."""
        param = self.token_embedding.weight
        device = param.device if device is None else device
        return [block.empty_state(batch_size, device, param.dtype) for block in self.blocks]

    def _trunk(
        self, idx: torch.Tensor, state: ModelState | None
    ) -> tuple[torch.Tensor, ModelState]:
        """idx (B, S) -> (normalized hidden states (B, S, D), state after the last token)."""
        x = self.emb_dropout(self.token_embedding(idx))  # (B, S, D)
        new_state = []
        for i, block in enumerate(self.blocks):
            x, block_state = block(x, None if state is None else state[i])
            new_state.append(block_state)
        return self.post_blocks_norm(x), new_state

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx (B, S) -> (logits (B, S, V), mean cross-entropy or None); skips targets of -100."""
        x, _ = self._trunk(idx, None)
        logits = self.lm_head(x)  # (B, S, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100
        )
        return logits, loss

    def prefill(
        self, idx: torch.Tensor, state: ModelState | None = None
    ) -> tuple[torch.Tensor, ModelState]:
        """Runs a prompt idx (B, S) in the sequence form from `state` (None: empty).

        Returns the logits after its last token (B, V) and the state to `step` on from.
        """
        x, state = self._trunk(idx, state)
        return self.lm_head(x[:, -1]), state

    def step(self, idx: torch.Tensor, state: ModelState | None) -> tuple[torch.Tensor, ModelState]:
        """One token per sequence, idx (B,) or (B, 1) -> (logits (B, V), new state)."""
        idx = idx.reshape(-1)  # (B,)
        if state is None:
            state = self.init_state(idx.shape[0])
        x = self.emb_dropout(self.token_embedding(idx))  # (B, D)
        new_state = []
        for block, block_state in zip(self.blocks, state, strict=True):
            x, block_state = block.step(x, block_state)
            new_state.append(block_state)
        return self.lm_head(self.post_blocks_norm(x)), new_state
