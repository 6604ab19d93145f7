"""The xLSTM language model (sLSTM + mLSTM blocks) and its training/generation tools."""

from xlstm_model.config import PRESETS, XLSTMConfig, config_from_preset, flops_per_token
from xlstm_model.model import XLSTMLM

__all__ = ["PRESETS", "XLSTMConfig", "XLSTMLM", "config_from_preset", "flops_per_token"]
