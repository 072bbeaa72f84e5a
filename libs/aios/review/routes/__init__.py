"""The review service's routes, one router per part of the site."""
