"""One module per screen of the flow: sign-in, home, wizard, review, receipt."""
