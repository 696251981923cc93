"""Representations: turning loaded data (tables, text, graphs) into the arrays a network trains on."""
