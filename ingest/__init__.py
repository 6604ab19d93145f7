"""Ingestion: PDFs → cleaned page text → page-aware chunks → embeddings → Chroma paper store.

Public seams (see docs/ARCHITECTURE.md): `ingest.pdf_text.extract_pages`,
`ingest.settings.IngestSettings`, `ingest.embeddings.load_embeddings`,
`ingest.store.open_store`, `ingest.pipeline.ingest_sources`, `ingest.manifest.load_manifest`,
`ingest.fetch.resolve_default_papers`, and the text primitives `ingest.sentences.split_sentences`
and `ingest.words.STOP_WORDS`. Submodules are imported lazily: `import ingest` is cheap.
"""
