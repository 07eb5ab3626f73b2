"""A site rule for tests of `--rules DIR`: valid, and it fires on every guest."""

SITE_RULE = """\
id: site-always
severity: info
title: A site rule that always fires
when: {fact: system.kernel_release, exists: true}
explain: Fires on every guest whose kernel release was read.
layer: host
"""
