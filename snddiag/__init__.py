"""snddiag: diagnose virtio sound (virtio-snd) in Linux virtual machine guests."""

__version__ = "0.1.0"
