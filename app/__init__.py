"""Composition root: the command line and the wiring of store, services, devices and sync.

This is the only package allowed to import from every layer; ``kiosk`` (the domain) never
imports it.
"""
