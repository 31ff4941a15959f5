"""Face pay: capture quality, liveness, embeddings, encrypted templates, matching, intents, ledger, gateways."""
