"""The case system's desktop client (Tk), the pixel-only channel's counterpart of the web screens."""
