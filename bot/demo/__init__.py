"""`support-bridge demo`: the real bridge against the built-in stand-ins, shown on one page.

No tokens, no internet: the stand-ins of the Telegram Bot API and the Viber REST API
(`standins/`, the same servers the tests use) run on loopback, the bridge talks to them over
HTTP exactly as in production, and a small web page lets a person act as a Telegram customer,
a Viber customer and an operator, and move the bridge's clock.
"""
