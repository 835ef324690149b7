"""Matching: pure scoring of candidate pairs with its own types, and the pass that matches new
listings and plans who is told what."""
