"""Sentence documents for contextual compression: one Document per sentence of a chunk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document

from ingest.sentences import split_sentences


class SentenceSplitter(BaseDocumentTransformer):
    """Turns chunks into one Document per sentence, keeping the chunk's metadata."""

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> list[Document]:
        out = []
        for doc in documents:
            for i, sentence in enumerate(split_sentences(doc.page_content)):
                metadata = {**doc.metadata, "sentence": i}
                out.append(Document(page_content=sentence, metadata=metadata))
        return out
