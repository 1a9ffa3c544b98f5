"""The pixel-only channel: a desktop client (Citrix-style) driven by image anchors, the keyboard and the clipboard."""
