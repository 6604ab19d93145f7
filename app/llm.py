"""The locally trained xLSTM as a LangChain LLM, so it composes with LangChain chains."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.llms import LLM
from langchain_core.outputs import GenerationChunk
from langchain_core.runnables import Runnable, RunnableLambda

from xlstm_model.prompt import format_prompt


class XLSTMLLM(LLM):
    """Greedy (temperature 0) or sampled generation from an `xlstm_model` run, with streaming."""

    run: Any  # xlstm_model.checkpoint.LoadedRun
    max_new_tokens: int = 96
    temperature: float = 0.0
    top_k: int | None = None
    top_p: float | None = None
    lock: Any = None  # optional threading.Lock shared with other users of the model

    @property
    def _llm_type(self) -> str:
        return "xlstm-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"max_new_tokens": self.max_new_tokens, "temperature": self.temperature}

    def _call(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> str:
        return "".join(c.text for c in self._stream(prompt, stop, run_manager, **kwargs))

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        from xlstm_model.generate import stream

        lock = self.lock or threading.Lock()
        with lock:  # released when the consumer finishes or closes the stream
            pieces = stream(
                self.run,
                prompt,
                max_new_tokens=self.max_new_tokens,
                temperature=self.temperature,
                top_k=self.top_k,
                top_p=self.top_p,
                stop=stop or [],
            )
            for piece in pieces:
                chunk = GenerationChunk(text=piece)
                if run_manager:
                    run_manager.on_llm_new_token(piece, chunk=chunk)
                yield chunk


def answer_chain(llm: XLSTMLLM) -> Runnable:
    """prompt (context + question in the model's QA format, via `format_prompt`) | xLSTM."""
    to_prompt = RunnableLambda(lambda d: format_prompt(d["context"], d["question"]))
    return to_prompt | llm
