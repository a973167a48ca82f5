"""Everything a phone call touches: Twilio webhooks, the pure flow engine, TwiML, outbound calls, the emulator."""
