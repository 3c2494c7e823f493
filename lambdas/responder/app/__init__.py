"""The use cases: triage (decide and queue), notify (render and send), prepare (preview) and doctor.

Entry modules (``triage_handler``, ``notify_handler``, ``cli``) wire adapters into these.
"""
