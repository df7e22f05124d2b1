"""The web layer: parse, call one service function, answer."""
