"""Sentence documents for contextual compression: one Document per sentence of a chunk."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.documents import BaseDocumentTransformer, Document

from ingest.sentences import split_sentences

# Units that are already one statement: a table row names its table, caption and columns, and
# split at the caption's full stops it would leave a bare "Model = GPT-3; ... = 14.26" that no
# longer resembles a question about it.
WHOLE_KINDS = ("table_row",)


class SentenceSplitter(BaseDocumentTransformer):
    """Turns chunks into one Document per sentence, keeping the chunk's metadata; a table row
    stays one Document."""

    def transform_documents(self, documents: Sequence[Document], **kwargs: Any) -> list[Document]:
        out = []
        for doc in documents:
            whole = doc.metadata.get("kind") in WHOLE_KINDS
            pieces = [doc.page_content] if whole else split_sentences(doc.page_content)
            for i, sentence in enumerate(pieces):
                metadata = {**doc.metadata, "sentence": i}
                out.append(Document(page_content=sentence, metadata=metadata))
        return out
