"""Constants the security tests share (a module of its own: `from conftest import …` picks whichever conftest.py
pytest imported first when several test folders run together)."""

KEY_PASSWORD = "client-key-pw"
