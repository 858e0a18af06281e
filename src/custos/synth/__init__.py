"""Synthetic worlds: a master file, address histories, a request batch and its truth.

`custos.synth.world.generate` is the entry point; `names` and `addresses`
expose the variant functions that other modules' tests use to make dirty input.
All data is synthetic: common given names and surnames, real ZIP/city/state
combinations, invented streets, people and numbers.
"""
