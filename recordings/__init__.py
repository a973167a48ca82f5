"""Where the hotline's audio lives: fetching from Twilio, checking, storing, retention.

Modules: errors (the exception tree), fetch (Twilio download and delete), audio (is it usable
audio?), store (RecordingStore, LocalStore), ingest (fetch_and_store), retention. Import from
them directly; this file stays empty so `import recordings.errors` pulls in nothing heavy.
"""
