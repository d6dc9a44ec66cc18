"""HTTP: the Twilio webhook and status callback (thin), and the coordinators' console."""
