"""The pure domain: what a finding is, how it is classified, worded and rendered.

No I/O and no AWS client here: models, classification, guidance, catalogue and translations,
cleaning, rendering, digests, routing, update and suppression rules, and the settings they obey.
"""
