"""The Kivy shopper app."""
