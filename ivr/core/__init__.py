"""The shared floor every room stands on: settings, database and models, queue, audit, privacy, prompts.

Nothing here imports a room (voice, dashboard, radio, public, operator, commands); rooms import this.
"""
