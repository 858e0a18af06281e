"""Policy: the pack of rules a statute imposes, the roster of who may request, and the gate.

pack.load_pack(path)      → Pack      the rules, in order, with clauses and thresholds
roster.load_roster(path)  → Roster    agencies, officials, safeguard certifications
gate.evaluate_batch(...)  → results   every failed rule per request, primary first
"""
