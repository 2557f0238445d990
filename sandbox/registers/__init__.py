"""Sandbox register hosts: one OpenSSH sshd per register on 127.0.0.1, each with the register agent.

``python -m sandbox registers start|stop|status --data-dir D ...``; see docs/register-agent.md.
"""
