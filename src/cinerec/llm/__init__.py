"""The language-model layer: backends, prompt templates, schemas, persona and re-ranking."""
