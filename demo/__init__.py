"""The local end-to-end run of GuardDuty Responder on an embedded AWS (moto's server)."""
