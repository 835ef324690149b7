"""Community Sharing Bot: municipalities, project holders and volunteers sharing needs
and offers."""
