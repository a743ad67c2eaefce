"""View models: what each page shows, computed in Python from the store and the services.

Templates only lay these out; every number, label and link is decided here.
"""
