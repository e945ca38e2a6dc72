"""Twilio's requests to us (CONTRACT §5): IVR TwiML, status callbacks and inbound SMS."""
