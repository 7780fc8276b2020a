"""The scan gate at work: verdicts (verdicts.py), the content policy (policy.py), the leased
scan queue (queue.py) and its worker (worker.py), and the quarantine admins review
(quarantine.py). The rule of who may read what a verdict allows is gshare.access.gate."""
