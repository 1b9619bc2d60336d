"""What family modules share."""
VETO = float("-inf")  # a prior that removes the command from the candidates
