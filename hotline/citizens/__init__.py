"""What citizens bring: the web form's rules, the place picker, photos."""
