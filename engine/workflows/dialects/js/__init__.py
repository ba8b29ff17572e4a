"""Helpers of the JavaScript dialect: tokenizer, static checks, and the QuickJS host bridge."""
