"""What every sandbox portal shares: knobs, sessions and logins, CSRF, Swedish formats, admin routes."""
