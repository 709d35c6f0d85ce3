"""The prefilter's words must cover everything a rule matches, or findings are lost."""

from lint_ws.python.rules import ws004_check_then_send


def test_ws004_requires_a_word_of_every_send_method():
    for method in ws004_check_then_send.SEND_METHODS:
        assert any(word in method for word in ws004_check_then_send.REQUIRES), method
