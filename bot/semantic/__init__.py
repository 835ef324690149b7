"""Multilingual understanding: sentence embeddings of listings, searches and alerts, so that
what is written in one language is found and matched in every other.

- :mod:`bot.semantic.embedder`: the :class:`Embedder` interface and the models behind it,
  chosen by the ``EMBEDDING_MODEL`` setting (``none``: words only);
- :mod:`bot.semantic.service`: :class:`Semantics`, the model loaded once, lazily, and used off
  the event loop; the vectors' quantized forms;
- :mod:`bot.semantic.index`: the in-memory binary index for the first pass of a search;
- :mod:`bot.semantic.names`: category and tag names in the 29 languages, back to their keys;
- :mod:`bot.semantic.search`: the hybrid search (meaning, exact words, taxonomy names);
- :mod:`bot.semantic.language`: which of the bot's languages a listing is written in.

Nothing here imports ``telegram``; the vectors themselves live in SQLite (bot/storage/vectors.py).
"""
