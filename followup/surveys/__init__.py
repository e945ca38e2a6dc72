"""The satisfaction survey (R5): responses and progress, and its SMS, IVR and web dialogues."""
