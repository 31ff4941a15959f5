"""Face pay, biometric half: capture and quality gate, liveness, embeddings, encrypted templates, matching.

Modules: :mod:`~payments.face.capture` (load, detect, quality gate, embedding),
:mod:`~payments.face.liveness` (depth relief, blink / head-turn challenge),
:mod:`~payments.face.keys` (AES-GCM envelope encryption), :mod:`~payments.face.store`
(consent, sealed templates, deletion, retention, key rotation),
:mod:`~payments.face.matching` (1:few / 1:N), :mod:`~payments.face.service` (the
enrollment and checkout flows, audited), :mod:`~payments.face.attack_set` (the
synthetic RGB-D presentation-attack set).
"""
